/**
 * A second look at who is there before a sensitive change to an account (a new password, a
 * passkey or authenticator added or removed, new recovery codes), rather than trusting a
 * browser session: the password, checked like a sign-in (throttled per account and IP), and,
 * when two-step sign-in is on and the caller asks for it, a code from the app or a recovery
 * code (counted by the same throttle). A disabled account is told so only after its password.
 */
import { commonErrors } from '@portico/problem';
import type { Account } from '../domain/accounts.ts';
import type { LoginService } from '../domain/login.ts';
import type { SecondFactorService } from '../domain/second-factor.ts';
import { errors } from '../errors.ts';

export interface ReauthenticateInput {
  username: string;
  password: string;
  ip: string;
  /** The two-step code to check when two-step sign-in is on; absent, the caller decides. */
  code?: string;
  /** The account passed its second factor moments ago (the page asking opened only after it). */
  secondFactorPassed?: boolean;
}

/** The account, and whether an authenticator app guards it; throws the refusal as a problem. */
export type Reauthenticate = (input: ReauthenticateInput) => Promise<{ account: Account; totp: boolean }>;

export const throttled = (retryAfter: number) =>
  commonErrors.TOO_MANY_REQUESTS('Too many failed attempts; try again later.', {
    headers: { 'retry-after': String(retryAfter) },
  });

export function createReauthenticate(
  login: LoginService,
  secondFactor: Pick<SecondFactorService, 'verify'>,
): Reauthenticate {
  return async ({ username, password, ip, code, secondFactorPassed }) => {
    const outcome = await login.check(username.trim(), password, ip, { secondFactorPassed });
    if (outcome.kind === 'throttled') throw throttled(outcome.retryAfter);
    if (outcome.kind === 'invalid') throw errors.WRONG_PASSWORD('Wrong username or password.');
    if (outcome.account.disabled) throw errors.ACCOUNT_DISABLED('This account is disabled.');
    if (outcome.secondFactor && code !== undefined) {
      const checked = await secondFactor.verify(outcome.account, code, ip);
      if (checked.kind === 'throttled') throw throttled(checked.retryAfter);
      if (checked.kind === 'invalid')
        throw errors.WRONG_CODE(
          'Two-step sign-in is on for this account: enter the code from your authenticator app, or a recovery code.',
        );
    }
    return { account: outcome.account, totp: outcome.secondFactor };
  };
}
