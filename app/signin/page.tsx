import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { SignInForm } from '../_components/sign-in-form';
import { authOptions } from '../_lib/auth-options';
import { currentUser } from '../_lib/session';

export const metadata: Metadata = { title: 'Sign in · Re:Use Chat' };

/** only same-site paths: never send a freshly signed-in user to another origin */
function safeCallback(raw: string | string[] | undefined): string {
  const v = Array.isArray(raw) ? raw[0] : raw;
  return v && v.startsWith('/') && !v.startsWith('//') && !v.startsWith('/signin') ? v : '/';
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallback(params.callbackUrl);
  if (await currentUser()) redirect(callbackUrl);
  // next-auth merges a provider's own options (`id: 'demo'`) over its defaults only later
  const providers = authOptions.providers.map((p) => {
    const own = (p as { options?: { id?: string; name?: string } }).options;
    return { id: own?.id ?? p.id, name: own?.name ?? p.name };
  });
  const error = typeof params.error === 'string' ? params.error : null;
  return (
    <main className="signin-page">
      <div className="signin-card">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">R</span> Re:Use Chat
        </div>
        <h1>Sign in</h1>
        <p className="muted">Chat with buyers and sellers about second-hand finds.</p>
        <SignInForm
          callbackUrl={callbackUrl}
          demo={providers.some((p) => p.id === 'demo')}
          oauth={providers.filter((p) => p.id !== 'demo')}
          initialError={error}
        />
      </div>
    </main>
  );
}
