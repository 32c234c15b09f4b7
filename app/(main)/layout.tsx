/**
 * The signed-in part of the page: the tRPC client, the tab's STOMP connection and chat state,
 * and the header. Each page checks the session itself (and sends signed-out visitors to
 * /signin with a way back); this layout renders nothing of the app without one.
 */
import type { ReactNode } from 'react';
import { AppProviders } from '../_components/app-providers';
import { currentUser } from '../_lib/session';

export default async function MainLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) return <>{children}</>;
  return <AppProviders me={user}>{children}</AppProviders>;
}
