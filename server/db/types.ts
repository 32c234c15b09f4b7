/** Row types inferred from the schema, in one place. */
import type { InferInsertModel, InferSelectModel } from 'drizzle-orm';
import type { inquiries, messages, reports, roomMembers, rooms, uploads, users } from './schema.js';

export type UserRow = InferSelectModel<typeof users>;
export type RoomRow = InferSelectModel<typeof rooms>;
export type RoomMemberRow = InferSelectModel<typeof roomMembers>;
export type MessageRow = InferSelectModel<typeof messages>;
export type NewMessageRow = InferInsertModel<typeof messages>;
export type InquiryRow = InferSelectModel<typeof inquiries>;
export type UploadRow = InferSelectModel<typeof uploads>;
export type NewUploadRow = InferInsertModel<typeof uploads>;
export type ReportRow = InferSelectModel<typeof reports>;
