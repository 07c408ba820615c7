/**
 * What a person can do with their own account: sign up, prove their email address,
 * change a forgotten or known password. The rules that matter:
 * - no enumeration: asking for a reset link (or signing up with an address that already
 *   has an account) gets the same answer, in the same time, whoever the address belongs
 *   to: the lookup, the link and the mail all happen after the answer has gone
 * - links are single-use, short-lived, and only their hash is stored (account-tokens.ts)
 * - a password reset ends every session and grant of the account; a change (made once the
 *   account's second factor is proven too, accounts/password-change.ts) every one but the browser's
 */
import type { IdentityConfig } from '../config.ts';
import { errors } from '../errors.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { AccountTokenService } from './account-tokens.ts';
import type { Account, AccountService } from './accounts.ts';
import type { AuditService } from './audit.ts';
import { passwordProblem } from './password-policy.ts';
import { hashPassword } from './passwords.ts';
import type { BrowserExchange } from './sessions.ts';

export interface SignUpInput {
  username: string;
  email: string;
  name: string;
  password: string;
}

/**
 * Starts `work` once the answer to the request has been written (accounts/routes.ts ties it to the
 * response), so neither its time nor its outcome can show in the answer.
 */
export type AfterAnswer = (work: () => void) => void;

export interface AccountActions {
  signUp(input: SignUpInput, ip: string, afterAnswer: AfterAnswer): Promise<void>;
  /** Mails a fresh verification link (after a sign-in with an unverified address). */
  sendVerification(account: Account): Promise<void>;
  verifyEmail(secret: string): Promise<Account>;
  requestPasswordReset(email: string, ip: string, afterAnswer: AfterAnswer): void;
  /** The account a reset link is for, without spending it; throws LINK_INVALID. */
  checkResetLink(secret: string): Promise<Account>;
  resetPassword(secret: string, password: string, ip: string): Promise<Account>;
  /**
   * Sets a new password for an account whose owner has proven who they are (password and second
   * factor); every other session ends, the one `from` was sent in stays. `spend` runs once the
   * new password passes the policy (the single-use proof that allowed the change).
   */
  changePassword(
    account: Account,
    next: string,
    ip: string,
    from: BrowserExchange,
    spend?: () => Promise<void>,
  ): Promise<void>;
}

export interface AccountActionDeps {
  accounts: AccountService;
  tokens: AccountTokenService;
  mailer: Mailer;
  audit: AuditService;
  config: IdentityConfig;
  /** Ends every session and grant of the account (and stops its live access tokens). */
  endSessions(accountId: string): Promise<void>;
  /** The same, except the session of the browser `from` came from and its grants. */
  endOtherSessions(accountId: string, from: BrowserExchange): Promise<void>;
  /** Where a failure after the answer has gone is reported. */
  onBackgroundError(err: unknown): void;
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{2,63}$/;
// The WHATWG HTML email rule (what <input type=email> accepts), kept short: one @, a dot-free local part is fine.
const EMAIL_PATTERN =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function checkUsername(username: string): string {
  const value = username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(value))
    throw errors.INVALID_USERNAME(
      'A username has 3 to 64 characters: letters, digits, dots, dashes and underscores, starting with a letter or digit.',
    );
  return value;
}

export function checkEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (value.length > 254 || !EMAIL_PATTERN.test(value))
    throw errors.INVALID_EMAIL('Enter a valid email address.');
  return value;
}

export function checkPassword(
  password: string,
  minLength: number,
  context: Parameters<typeof passwordProblem>[2],
) {
  const problem = passwordProblem(password, minLength, context);
  if (problem) throw errors.WEAK_PASSWORD(problem);
}

export function accountActions(deps: AccountActionDeps): AccountActions {
  const { accounts, tokens, mailer, audit, config } = deps;
  const base = config.issuer.replace(/\/$/, '');

  function later(afterAnswer: AfterAnswer, work: () => Promise<void>) {
    afterAnswer(() => {
      work().catch(deps.onBackgroundError);
    });
  }

  async function mailVerification(account: Account) {
    if (!account.email) return;
    const secret = await tokens.issue(account.id, 'verify-email', config.accounts.verifyEmailTtlSeconds);
    const link = `${base}/account/verify?token=${secret}`;
    const hours = Math.round(config.accounts.verifyEmailTtlSeconds / 3600);
    await mailer.send({
      to: account.email,
      subject: 'Confirm your email address for Portico',
      text: `Hello ${account.name},\n\nConfirm that ${account.email} is yours to finish setting up your Portico account "${account.username}":\n\n${link}\n\nThe link works once, for ${hours} hour(s). If you did not sign up, ignore this message.\n`,
    });
  }

  async function setPassword(
    account: Account,
    password: string,
    ip: string,
    action: string,
    endSessions: () => Promise<void>,
  ) {
    await accounts.setPasswordHash(account.id, await hashPassword(password));
    await endSessions();
    await audit.record({ actor: account.id, action, target: account.id, ip, detail: {} });
  }

  return {
    async signUp(input, ip, afterAnswer) {
      if (!config.accounts.signup)
        throw errors.SIGNUP_DISABLED('Accounts are created by an administrator here.');
      const username = checkUsername(input.username);
      const email = checkEmail(input.email);
      const name = input.name.trim().slice(0, 100) || username;
      checkPassword(input.password, config.accounts.minPasswordLength, { username, name, email });
      const result = await accounts.insert({
        username,
        email,
        name,
        roles: ['customer'],
        passwordHash: await hashPassword(input.password),
      });
      if (!result.ok && result.taken === 'username')
        throw errors.USERNAME_TAKEN('That username is taken; choose another.');
      if (!result.ok) {
        // Same answer as a new account; the owner of the address learns of the attempt.
        later(afterAnswer, () =>
          mailer.send({
            to: email,
            subject: 'Someone tried to sign up to Portico with your address',
            text: `Someone tried to create a Portico account with ${email}, which already has one.\n\nIf it was you, sign in instead, or reset your password: ${base}/account/reset\n`,
          }),
        );
        return;
      }
      const account = result.account;
      // After the answer, as for a taken address: a new account must not answer slower than one.
      later(afterAnswer, async () => {
        await audit.record({
          actor: account.id,
          action: 'account.signup',
          target: account.id,
          ip,
          detail: { username },
        });
        await mailVerification(account);
      });
    },

    sendVerification: mailVerification,

    async verifyEmail(secret) {
      const id = await tokens.consume(secret, 'verify-email');
      const account = id ? await accounts.findById(id) : undefined;
      if (!account)
        throw errors.LINK_INVALID('This link has expired or was already used. Sign in to get a new one.');
      await accounts.markEmailVerified(account.id);
      await audit.record({
        actor: account.id,
        action: 'account.email_verified',
        target: account.id,
        ip: null,
        detail: {},
      });
      return { ...account, emailVerified: true };
    },

    requestPasswordReset(email, ip, afterAnswer) {
      const address = email.trim().toLowerCase();
      later(afterAnswer, async () => {
        const account = await accounts.findByEmail(address);
        if (!account || account.disabled || !account.email) return;
        const secret = await tokens.issue(
          account.id,
          'reset-password',
          config.accounts.resetPasswordTtlSeconds,
        );
        const minutes = Math.round(config.accounts.resetPasswordTtlSeconds / 60);
        await audit.record({
          actor: account.id,
          action: 'account.reset_requested',
          target: account.id,
          ip,
          detail: {},
        });
        await mailer.send({
          to: account.email,
          subject: 'Reset your Portico password',
          text: `Hello ${account.name},\n\nSomeone (we hope you) asked to reset the password of the Portico account "${account.username}". Choose a new one here:\n\n${base}/account/reset/confirm?token=${secret}\n\nThe link works once, for ${minutes} minutes. If you did not ask, ignore this message: your password stays as it is.\n`,
        });
      });
    },

    async checkResetLink(secret) {
      const id = await tokens.peek(secret, 'reset-password');
      const account = id ? await accounts.findById(id) : undefined;
      if (!account || account.disabled)
        throw errors.LINK_INVALID('This link has expired or was already used. Ask for a new one.');
      return account;
    },

    async resetPassword(secret, password, ip) {
      const account = await this.checkResetLink(secret);
      checkPassword(password, config.accounts.minPasswordLength, account);
      if ((await tokens.consume(secret, 'reset-password')) !== account.id)
        throw errors.LINK_INVALID('This link has expired or was already used. Ask for a new one.');
      // A mailed link proves the mailbox, not a session: every session ends, this browser's too.
      await setPassword(account, password, ip, 'account.password_reset', () => deps.endSessions(account.id));
      // The mail reached its owner, so the address is theirs.
      if (!account.emailVerified) await accounts.markEmailVerified(account.id);
      return account;
    },

    async changePassword(account, next, ip, from, spend) {
      checkPassword(next, config.accounts.minPasswordLength, account);
      await spend?.();
      await setPassword(account, next, ip, 'account.password_changed', () =>
        deps.endOtherSessions(account.id, from),
      );
    },
  };
}
