import type { ReactNode } from 'react';
import { ChatShell } from '../../_components/chat-shell';
import { currentUser } from '../../_lib/session';

/** the room list stays mounted while the user moves between rooms */
export default async function ChatLayout({ children }: { children: ReactNode }) {
  // signed out: the page itself sends the visitor to /signin (with the way back)
  if (!(await currentUser())) return <>{children}</>;
  return <ChatShell>{children}</ChatShell>;
}
