/** Plain-JSON tRPC calls, as a client in any language would make them (no transformer). */
export interface TrpcResult<T = any> {
  status: number;
  data?: T;
  error?: { message: string; data: { code: string; httpStatus: number; zodError?: { fieldErrors: Record<string, string[]> } | null } };
}

export function trpcClient(baseUrl: string, auth?: { token?: string; cookie?: string }) {
  const headers = (): Record<string, string> => ({
    ...(auth?.token ? { authorization: `Bearer ${auth.token}` } : {}),
    ...(auth?.cookie ? { cookie: auth.cookie } : {}),
  });
  const parse = async <T>(res: Response): Promise<TrpcResult<T>> => {
    const body = (await res.json()) as { result?: { data: T }; error?: TrpcResult['error'] };
    return { status: res.status, ...(body.result ? { data: body.result.data } : {}), ...(body.error ? { error: body.error } : {}) };
  };
  return {
    async query<T = any>(path: string, input?: unknown): Promise<TrpcResult<T>> {
      const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
      return parse<T>(await fetch(`${baseUrl}/api/trpc/${path}${qs}`, { headers: headers() }));
    },
    async mutate<T = any>(path: string, input?: unknown): Promise<TrpcResult<T>> {
      return parse<T>(
        await fetch(`${baseUrl}/api/trpc/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers() },
          body: input === undefined ? undefined : JSON.stringify(input),
        }),
      );
    },
  };
}
