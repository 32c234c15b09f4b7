'use client';
/** Demo sign-in: pick one of the demo users or type a user name (next-auth Credentials `demo`). */
import { signIn } from 'next-auth/react';
import { useId, useState, type FormEvent } from 'react';
import { normaliseUserName } from '../_lib/user-name';
import { Avatar } from './avatar';

const DEMO_USERS = [
  { id: 'alice', hint: 'sells a desk lamp' },
  { id: 'bob', hint: 'sells a road bike' },
  { id: 'carol', hint: 'sells a film camera' },
  { id: 'dave', hint: 'sells an armchair' },
] as const;


export function SignInForm({
  callbackUrl,
  demo,
  oauth,
  initialError,
}: {
  callbackUrl: string;
  demo: boolean;
  oauth: Array<{ id: string; name: string }>;
  initialError: string | null;
}) {
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(initialError ? 'Sign-in failed. Please try again.' : null);
  const inputId = useId();
  const errorId = useId();

  async function signInAs(raw: string) {
    const name = normaliseUserName(raw);
    if (!name) {
      setError('Use 2–32 letters (any language), digits, dots, dashes or underscores, starting with a letter or digit.');
      return;
    }
    setError(null);
    setBusy(name);
    try {
      // no redirect by next-auth: it would send us to NEXTAUTH_URL's host, not the one we are on
      const res = await signIn('demo', { username: name, callbackUrl, redirect: false });
      if (!res || res.error || !res.ok) {
        setError(res?.error === 'CredentialsSignin' ? 'That user name cannot sign in.' : 'Sign-in failed. Please try again.');
        setBusy(null);
        return;
      }
      window.location.assign(callbackUrl);
    } catch {
      setError('The server cannot be reached. Please try again.');
      setBusy(null);
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void signInAs(username);
  }

  return (
    <div className="signin-form">
      {demo ? (
        <>
          <h2 className="section-label">Demo accounts</h2>
          <ul className="demo-users">
            {DEMO_USERS.map((u) => (
              <li key={u.id}>
                <button type="button" className="demo-user" onClick={() => void signInAs(u.id)} disabled={busy !== null} data-user={u.id}>
                  <Avatar id={u.id} name={u.id} size={36} />
                  <span>
                    <span className="demo-user-name">{u.id.charAt(0).toUpperCase() + u.id.slice(1)}</span>
                    <span className="muted small">{busy === u.id ? 'Signing in…' : u.hint}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <form onSubmit={onSubmit} className="signin-other" noValidate>
            <label htmlFor={inputId}>Or another user name</label>
            <div className="input-row">
              <input
                id={inputId}
                name="username"
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                placeholder="e.g. erin or 민수"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? errorId : undefined}
              />
              <button type="submit" className="btn btn-primary" disabled={busy !== null || username.trim() === ''}>
                Continue
              </button>
            </div>
          </form>
        </>
      ) : (
        <p className="muted">Demo sign-in is turned off on this server.</p>
      )}
      {oauth.map((p) => (
        <button key={p.id} type="button" className="btn btn-secondary btn-block" onClick={() => void signIn(p.id, { callbackUrl })}>
          Continue with {p.name}
        </button>
      ))}
      <p id={errorId} className="form-error" role="alert">
        {error}
      </p>
    </div>
  );
}
