/**
 * The password rule, after NIST SP 800-63B §5.1.1.2: a minimum length, a generous
 * maximum, no composition rules, and no password found in a list of commonly used and
 * breached ones. The list is the ~49,000 most common passwords that
 * @zxcvbn-ts/language-common ships as data (nothing is fetched at run time); it is
 * compared case-insensitively, and the account's own username, name or email is
 * refused too (a password a targeted guesser tries first).
 */
import { dictionary } from '@zxcvbn-ts/language-common';

export const MAX_PASSWORD_LENGTH = 1024;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return common;
}

export interface PasswordContext {
  username?: string;
  name?: string;
  email?: string | null;
}

/** Why the password is refused, in words for the user; undefined when it is fine. */
export function passwordProblem(
  password: string,
  minLength: number,
  context: PasswordContext = {},
): string | undefined {
  const length = [...password].length;
  if (length < minLength) return `Use at least ${minLength} characters.`;
  if (length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower))
    return 'This password is on a list of commonly used or leaked passwords; choose another.';
  const own = [context.username, context.name, context.email, context.email?.split('@')[0]]
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .map((v) => v.toLowerCase());
  if (own.some((v) => lower === v || (v.length >= 4 && lower.includes(v) && lower.length - v.length < 4)))
    return 'Do not base the password on your username, name or email.';
  return undefined;
}
