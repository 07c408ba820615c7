/**
 * Checking a username and password: throttled per account and per IP, constant work
 * whether or not the account exists (no user enumeration by timing), and a re-hash
 * on success when the stored hash was made with weaker parameters.
 */
import type { Account, AccountService } from './accounts.ts';
import { hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import type { Throttle } from './throttle.ts';

export type LoginOutcome =
  /** `secondFactor`: the account has one, and the sign-in is not done until it is checked. */
  | { kind: 'ok'; account: Account; secondFactor: boolean }
  | { kind: 'invalid' }
  | { kind: 'throttled'; retryAfter: number };

export interface LoginService {
  /**
   * `secondFactorPassed`: the caller saw this account pass its second factor a moment ago
   * (a re-authentication within a page that needed it), so a right password ends the count.
   */
  check(
    username: string,
    password: string,
    ip: string,
    options?: { secondFactorPassed?: boolean },
  ): Promise<LoginOutcome>;
}

export function createLoginService(
  accounts: AccountService,
  throttle: Throttle,
  /** Whether a second factor guards the account (second-factor.ts). */
  hasSecondFactor: (accountId: string) => Promise<boolean> = async () => false,
): LoginService {
  // Verified against when the username is unknown, so both paths cost one scrypt.
  const decoy = hashPassword('decoy password that matches nothing');

  return {
    async check(username, password, ip, options = {}) {
      // Counted before the (slow) hash, atomically: concurrent guesses cannot all get through.
      const retryAfter = await throttle.attempt(username, ip);
      if (retryAfter > 0) return { kind: 'throttled', retryAfter };

      const found = await accounts.findCredentials(username);
      const ok = await verifyPassword(password, found?.passwordHash ?? (await decoy));
      if (!found || !ok) return { kind: 'invalid' };
      // With a second factor to come, the count stands until that is passed too: a known
      // password must not reset the budget of code guesses.
      const secondFactor = await hasSecondFactor(found.account.id);
      if (!secondFactor || options.secondFactorPassed) await throttle.succeed(username, ip);
      if (needsRehash(found.passwordHash)) {
        await accounts.setPasswordHash(found.account.id, await hashPassword(password));
      }
      return { kind: 'ok', account: found.account, secondFactor };
    },
  };
}
