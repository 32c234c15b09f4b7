/**
 * Reports: a member reports the counterpart of a room, or one of their messages, for the
 * marketplace's moderation. Stored in MySQL first, then handed to the bus (Kafka topic
 * `chat.reports`; with the in-process bus it is only stored and logged). Administrators list them.
 */
import { desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import type { AuthUser } from '../auth/tokens.js';
import type { ModerationReport, RoomBus } from '../bus/room-bus.js';
import type { ChatService } from '../chat/service.js';
import { messageId, roomId } from '../chat/validation.js';
import type { Db } from '../db/client.js';
import { reports, rooms } from '../db/schema.js';
import type { ReportRow } from '../db/types.js';
import type { Logger } from '../logger.js';
import { ChatError } from '../shared/errors.js';

export const REPORT_REASONS = ['spam', 'fraud', 'abuse', 'inappropriate', 'other'] as const;

export const reportInput = z.object({
  roomId,
  messageId: messageId.nullish(),
  reason: z.enum(REPORT_REASONS, { error: `reason must be one of ${REPORT_REASONS.join(', ')}` }),
  note: z.string().trim().max(1000, 'note must be at most 1000 characters').nullish(),
});

export const reportListInput = z
  .object({ cursor: z.string().regex(/^\d+$/).nullish(), limit: z.number().int().min(1).max(100).default(50) })
  .default({ limit: 50 });

export interface ReportView {
  id: string;
  roomId: string;
  reporterId: string;
  reportedUserId: string;
  messageId: string | null;
  reason: string;
  note: string | null;
  createdAt: string;
}

export class ReportService {
  constructor(
    private readonly deps: { db: Db; chat: ChatService; bus: RoomBus; logger: Logger },
  ) {}

  /** members only; a named message must be the counterpart's, in this room */
  async create(user: AuthUser, input: z.output<typeof reportInput>): Promise<ReportView> {
    const access = await this.deps.chat.authorize(user.id, input.roomId);
    const reportedUserId = access.buyerId === user.id ? access.sellerId : access.buyerId;
    let messageContent: string | null = null;
    if (input.messageId != null) {
      const message = await this.deps.chat.messageInRoom(input.roomId, input.messageId);
      if (message.senderId === user.id) throw new ChatError('BAD_REQUEST', 'messageId: you cannot report your own message');
      messageContent = message.content;
    }
    const row = {
      roomId: input.roomId,
      reporterId: user.id,
      reportedUserId,
      messageId: input.messageId ?? null,
      reason: input.reason,
      note: input.note || null,
      createdAt: new Date(),
    };
    const [inserted] = await this.deps.db.insert(reports).values(row).$returningId();
    const view = toView({ ...row, id: inserted!.id });
    const [room] = await this.deps.db.select({ productId: rooms.productId }).from(rooms).where(eq(rooms.id, input.roomId));
    const published: ModerationReport = { ...view, productId: room?.productId ?? '', messageContent };
    this.deps.bus.report(published);
    this.deps.logger.info({ reportId: view.id, roomId: view.roomId, reason: view.reason }, 'report stored');
    return view;
  }

  /** newest first, keyset-paginated on the id (pass `nextCursor` as `cursor`) */
  async list(opts: { cursor?: string | null | undefined; limit: number }): Promise<{ reports: ReportView[]; nextCursor: string | null }> {
    const rows = await this.deps.db
      .select()
      .from(reports)
      .where(opts.cursor ? lt(reports.id, Number(opts.cursor)) : undefined)
      .orderBy(desc(reports.id))
      .limit(opts.limit + 1);
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { reports: page.map(toView), nextCursor: more ? String(page[page.length - 1]!.id) : null };
  }
}

function toView(r: ReportRow): ReportView {
  return {
    id: String(r.id),
    roomId: r.roomId,
    reporterId: r.reporterId,
    reportedUserId: r.reportedUserId,
    messageId: r.messageId === null ? null : String(r.messageId),
    reason: r.reason,
    note: r.note,
    createdAt: r.createdAt.toISOString(),
  };
}
