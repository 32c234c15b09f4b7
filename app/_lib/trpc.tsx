'use client';
/**
 * The page's one typed tRPC client: plain JSON (no transformer, as the API promises every
 * client), batched over /api/trpc, authenticated by the next-auth session cookie.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useState, type ReactNode } from 'react';
import type { AppRouter } from '../../server/trpc/root';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export type TrpcClient = ReturnType<typeof createTRPCClient<AppRouter>>;

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        // a 4xx will not get better by asking again
        retry: (count, err) => !(err instanceof TRPCClientError && typeof err.data?.httpStatus === 'number' && err.data.httpStatus < 500) && count < 3,
      },
    },
  });
}

export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      // the server refuses batches over TRPC_MAX_BATCH (default 20): split larger ones
      links: [httpBatchLink({ url: '/api/trpc', maxItems: 20 })],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}

/** zod's field errors from the server's error formatter, when the error carries them */
export function fieldErrorsOf(err: unknown): Record<string, string[] | undefined> | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = err.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined;
  return data?.zodError?.fieldErrors ?? null;
}
