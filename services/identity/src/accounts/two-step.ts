/**
 * Turning on two-step sign-in (`/account/two-step`), as plain forms like the other account
 * pages. Binding an authenticator is a sensitive change, so it starts by asking for the
 * password again (throttled like a sign-in) rather than trusting a browser session:
 * 1. username and password: a new TOTP seed, shown once as a QR code and as text, and a
 *    single-use enrolment ticket (10 min, only its hash kept) for the next form;
 * 2. ticket and the first code from the app: the authenticator is confirmed and guards
 *    every later sign-in; the 10 recovery codes are shown, this once.
 * An account that already has one is told to turn it off first (`/account/security`).
 */
import type { FastifyInstance } from 'fastify';
import { formField, formPages } from '../api/forms.ts';
import type { Account } from '../domain/accounts.ts';
import { errors } from '../errors.ts';
import { formPost, formRoutes } from './form-post.ts';
import type { SignInMethodPageDeps } from './page-deps.ts';
import { throttled } from './reauthenticate.ts';
import { recoveryCodesPage, twoStepConfirmPage, twoStepStartPage } from './views.ts';

const HIDE = { schema: { hide: true } };
const TICKET_TTL_SECONDS = 600;

export async function twoStepRoutes(server: FastifyInstance, deps: SignInMethodPageDeps): Promise<void> {
  const { accounts, tokens, reauthenticate, secondFactor, passkeys, audit, guard } = deps;
  await formPages(server);

  /** Re-authentication by the password alone, for an account no second factor guards yet. */
  async function passwordOnly(username: string, password: string, ip: string): Promise<Account> {
    const { account, totp } = await reauthenticate({ username, password, ip });
    if (totp)
      throw errors.SECOND_FACTOR_ALREADY_ON(
        'Two-step sign-in is already on for this account. To use another authenticator, turn it off on your sign-in methods page (/account/security) first.',
      );
    // A passkey is this account's second step: the password alone must not add another way past it.
    if (await passkeys.has(account.id))
      throw errors.SECOND_FACTOR_ALREADY_ON(
        'This account signs in with a passkey as its second step. To add an authenticator app, ask an admin to reset two-step sign-in.',
      );
    return account;
  }

  const post = formPost(guard);

  formRoutes(server, guard, post, '/account/two-step', twoStepStartPage, async (request, reply) => {
    const b = request.body;
    const account = await passwordOnly(formField(b, 'username', 64), formField(b, 'password'), request.ip);
    const enrolment = await secondFactor.begin(account);
    if (!enrolment) throw errors.SECOND_FACTOR_ALREADY_ON('Two-step sign-in is already on for this account.');
    const ticket = await tokens.issue(account.id, 'enrol-totp', TICKET_TTL_SECONDS);
    return twoStepConfirmPage({ csrf: guard.token(request, reply) }, ticket, enrolment);
  });

  server.post('/account/two-step/confirm', HIDE, async (request, reply) => {
    const ticket = formField(request.body, 'ticket', 200);
    return post(
      request,
      reply,
      (state) => twoStepConfirmPage(state, ticket),
      async () => {
        const accountId = await tokens.peek(ticket, 'enrol-totp');
        const account = accountId ? await accounts.findById(accountId) : undefined;
        if (!account || account.disabled)
          throw errors.LINK_INVALID('This form has expired. Start again to get a new QR code.');
        const outcome = await secondFactor.confirm(account, formField(request.body, 'code', 64), request.ip);
        if ('recoveryCodes' in outcome) {
          await tokens.consume(ticket, 'enrol-totp');
          await audit.record({
            actor: 'self',
            action: 'account.second_factor_enrolled',
            target: account.id,
            ip: request.ip,
            detail: { method: 'totp' },
          });
          return recoveryCodesPage(outcome.recoveryCodes);
        }
        if (outcome.kind === 'throttled') throw throttled(outcome.retryAfter);
        throw errors.WRONG_CODE(
          'That code is not right. Check that the app shows Portico and that this device’s clock is correct.',
        );
      },
    );
  });
}
