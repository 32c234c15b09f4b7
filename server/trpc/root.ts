/** The one root router; feature routers are wired here explicitly. */
import { authRouter } from './routers/auth.js';
import { historyRouter } from './routers/history.js';
import { inquiriesRouter } from './routers/inquiries.js';
import { reportsRouter } from './routers/reports.js';
import { roomsRouter } from './routers/rooms.js';
import { router } from './trpc.js';

export const appRouter = router({
  rooms: roomsRouter,
  history: historyRouter,
  inquiries: inquiriesRouter,
  reports: reportsRouter,
  auth: authRouter,
});

export type AppRouter = typeof appRouter;
