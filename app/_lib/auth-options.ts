/**
 * next-auth (v4, JWT sessions) for the web page. The custom server validates the configuration
 * and hands it over in REUSE_AUTH_CONFIG (server/index.ts), so this file reads no raw variables.
 *
 * Providers: a demo sign-in (pick a user name; on in development and for local `npm start`,
 * off in production unless DEMO_SIGN_IN=true), and the marketplace's own OAuth/OIDC provider
 * when OAUTH_ISSUER, OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET are set.
 */
import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { displayName, normaliseUserName } from './user-name';

interface AuthConfig {
  secret: string;
  demoSignIn: boolean;
  oauth: { issuer: string; clientId: string; clientSecret: string; name: string } | null;
  sessionMaxAgeSeconds: number;
}

function config(): AuthConfig {
  const raw = process.env.REUSE_AUTH_CONFIG;
  if (!raw) throw new Error('REUSE_AUTH_CONFIG is missing: start the page through the custom server (npm start / npm run dev)');
  return JSON.parse(raw) as AuthConfig;
}

function buildOptions(): NextAuthOptions {
  const cfg = config();
  const providers: NextAuthOptions['providers'] = [];
  if (cfg.demoSignIn) {
    providers.push(
      CredentialsProvider({
        id: 'demo',
        name: 'Demo account',
        credentials: { username: { label: 'User name', type: 'text', placeholder: 'alice' } },
        async authorize(credentials) {
          const username = normaliseUserName(String(credentials?.username ?? ''));
          if (!username) return null;
          return { id: username, name: displayName(username) };
        },
      }),
    );
  }
  if (cfg.oauth) {
    providers.push({
      id: 'marketplace',
      name: cfg.oauth.name,
      type: 'oauth',
      wellKnown: `${cfg.oauth.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
      clientId: cfg.oauth.clientId,
      clientSecret: cfg.oauth.clientSecret,
      authorization: { params: { scope: 'openid profile email' } },
      idToken: true,
      checks: ['pkce', 'state'],
      profile(profile: { sub: string; name?: string; email?: string }) {
        return { id: profile.sub, name: profile.name ?? profile.email ?? profile.sub, email: profile.email ?? null };
      },
    });
  }
  return {
    secret: cfg.secret,
    session: { strategy: 'jwt', maxAge: cfg.sessionMaxAgeSeconds },
    providers,
    pages: { signIn: '/signin', error: '/signin' },
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.sub = user.id;
          token.name = user.name ?? user.id;
        }
        return token;
      },
      session({ session, token }) {
        if (session.user) {
          (session.user as { id?: string }).id = token.sub ?? '';
          session.user.name = token.name ?? token.sub ?? '';
        }
        return session;
      },
    },
  };
}

let cached: NextAuthOptions | undefined;
export const authOptions: NextAuthOptions = new Proxy({} as NextAuthOptions, {
  get(_t, prop) {
    cached ??= buildOptions();
    return cached[prop as keyof NextAuthOptions];
  },
  ownKeys() {
    cached ??= buildOptions();
    return Reflect.ownKeys(cached);
  },
  getOwnPropertyDescriptor(_t, prop) {
    cached ??= buildOptions();
    return Object.getOwnPropertyDescriptor(cached, prop);
  },
});
