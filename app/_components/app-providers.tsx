'use client';
import type { ReactNode } from 'react';
import { ChatProvider, type Me } from '../_lib/chat-context';
import { TRPCReactProvider } from '../_lib/trpc';
import { AppHeader } from './app-header';
import { ConnectionBanner } from './connection-banner';

export function AppProviders({ me, children }: { me: Me; children: ReactNode }) {
  return (
    <TRPCReactProvider>
      <ChatProvider me={me}>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <AppHeader />
        <ConnectionBanner />
        <div id="main" className="app-main" tabIndex={-1}>
          {children}
        </div>
      </ChatProvider>
    </TRPCReactProvider>
  );
}
