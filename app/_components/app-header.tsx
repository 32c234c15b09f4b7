'use client';
import { signOut } from 'next-auth/react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { useChat } from '../_lib/chat-context';
import { Avatar } from './avatar';
import { UnreadBadge } from './unread-badge';

export function AppHeader() {
  const { me, totalUnread } = useChat();
  const pathname = usePathname();
  const [signingOut, setSigningOut] = useState(false);
  const current = (href: string) => (href === '/' ? pathname === '/' : pathname.startsWith(href)) ? 'page' : undefined;

  async function onSignOut() {
    setSigningOut(true);
    await signOut({ redirect: false }).catch(() => undefined);
    window.location.assign('/signin');
  }

  return (
    <header className="app-header">
      <Link href="/" className="brand" aria-label="Re:Use Chat, catalogue">
        <span className="brand-mark" aria-hidden="true">
          R
        </span>
        <span className="brand-name">Re:Use</span>
      </Link>
      <nav aria-label="Main" className="main-nav">
        <Link href="/" aria-current={current('/')}>
          Catalogue
        </Link>
        <Link href="/chat" aria-current={current('/chat')} data-testid="nav-chats">
          Chats
          <UnreadBadge count={totalUnread} testId="total-unread" />
        </Link>
        <Link href="/support" aria-current={current('/support')}>
          Support
        </Link>
      </nav>
      <div className="header-user">
        <span title={`Signed in as ${me.name}`} className="header-avatar">
          <Avatar id={me.id} name={me.name} size={28} />
        </span>
        <span className="header-user-name" data-testid="me">
          {me.name}
        </span>
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void onSignOut()} disabled={signingOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
