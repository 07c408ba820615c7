/** What the pages that change an account's sign-in methods (two-step, passkeys, security) are built from. */
import type { AccountTokenService } from '../domain/account-tokens.ts';
import type { AccountService } from '../domain/accounts.ts';
import type { AuditService } from '../domain/audit.ts';
import type { PasskeyService } from '../domain/passkeys.ts';
import type { SecondFactorService } from '../domain/second-factor.ts';
import type { BrowserExchange } from '../domain/sessions.ts';
import type { FormGuard } from './csrf.ts';
import type { Reauthenticate } from './reauthenticate.ts';

export interface SignInMethodPageDeps {
  accounts: AccountService;
  tokens: AccountTokenService;
  reauthenticate: Reauthenticate;
  secondFactor: SecondFactorService;
  passkeys: PasskeyService;
  audit: AuditService;
  guard: FormGuard;
  /**
   * After a factor is removed or replaced: every other session and grant of the account ends
   * and their access tokens are revoked, so whoever signed in with the old factor is out; the
   * browser making the change stays signed in.
   */
  endOtherSessions(accountId: string, from: BrowserExchange): Promise<void>;
}
