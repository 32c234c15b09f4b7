/**
 * The demo sign-in's user-name rule, shared by the form (app/_components/sign-in-form.tsx) and
 * the next-auth provider (auth-options.ts). Letters and digits of any script (a Korean
 * marketplace's users are 민수 and 지영), plus dots, dashes and underscores inside.
 */
const USER_NAME = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]{1,31}$/u;

/** the canonical form of a typed name (NFC, lower case where the script has case) or null when it is not allowed */
export function normaliseUserName(raw: string): string | null {
  const name = raw.normalize('NFC').trim().toLowerCase();
  return USER_NAME.test(name) ? name : null;
}

/** how a user id is shown: first letter upper-cased where the script has case */
export function displayName(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
