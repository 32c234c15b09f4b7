/** reports.create (members of the room) / reports.list (admin) */
import { reportInput, reportListInput } from '../../reports/service.js';
import { adminProcedure, protectedProcedure, router } from '../trpc.js';

export const reportsRouter = router({
  /** stored, then published for the moderation service (Kafka `chat.reports`) */
  create: protectedProcedure.input(reportInput).mutation(({ ctx, input }) => ctx.reports.create(ctx.user, input)),

  list: adminProcedure.input(reportListInput).query(({ ctx, input }) => ctx.reports.list(input)),
});
