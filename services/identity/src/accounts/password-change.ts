/**
 * Changing a known password (`/account/password`), as plain forms like the other account pages.
 * The new password signs every other device out, so the current password alone (the factor
 * that leaks) must not be enough: the account's second factor is asked for too, as on the
 * sign-in methods page —
 * 1. username, current password, new password and, with an authenticator app on, its code or a
 *    recovery code (else 401 `WRONG_CODE`); an account without the app, no passkey: the password;
 * 2. an account whose second step is a passkey gets the **Use a passkey** page instead; the
 *    passkey's answer opens a form for the new password under a single-use ticket (10 min,
 *    only its hash kept), so the password is never echoed back into a page.
 * The session of the browser making the change stays signed in (domain/self-service.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formField, formPages } from '../api/forms.ts';
import type { Account } from '../domain/accounts.ts';
import type { AccountActions } from '../domain/self-service.ts';
import { errors } from '../errors.ts';
import { formPost, formRoutes } from './form-post.ts';
import type { SignInMethodPageDeps } from './page-deps.ts';
import { confirmedByPasskey, reauthenticateFully } from './passkeys.ts';
import { changePasswordPage, type FormState, messagePage, newPasswordPage } from './views.ts';

export interface PasswordChangeDeps extends SignInMethodPageDeps {
  actions: AccountActions;
  minPasswordLength: number;
}

const HIDE = { schema: { hide: true } };
const TICKET_TTL_SECONDS = 600;
const PURPOSE = 'change-password';
const EXPIRED = 'This form has expired. Start again.';
const CHANGED = messagePage(
  'Password changed',
  'Your new password is set. Every other device signed in to your account is signed out.',
);

export async function passwordChangeRoutes(server: FastifyInstance, deps: PasswordChangeDeps): Promise<void> {
  const { accounts, tokens, passkeys, guard, actions, minPasswordLength: min } = deps;
  await formPages(server);
  const post = formPost(guard, { scripts: true });
  const exchange = (request: FastifyRequest, reply: FastifyReply) => ({ req: request.raw, res: reply.raw });

  /** The account a new-password ticket was issued for, while it is unexpired and may sign in. */
  async function holder(ticket: string): Promise<Account | undefined> {
    const accountId = await tokens.peek(ticket, PURPOSE);
    const account = accountId ? await accounts.findById(accountId) : undefined;
    return account && !account.disabled ? account : undefined;
  }

  const changeForm = (state: FormState) => changePasswordPage(state, min);
  formRoutes(server, guard, post, '/account/password', changeForm, async (request, reply) => {
    const who = await reauthenticateFully(
      deps,
      request,
      reply,
      {
        action: '/account/password/confirm',
        why: 'Use one of its passkeys to change your password; then choose the new one.',
      },
      'current',
    );
    if ('page' in who) return who.page;
    await actions.changePassword(
      who.account,
      formField(request.body, 'password'),
      request.ip,
      exchange(request, reply),
    );
    return CHANGED;
  });

  server.post('/account/password/confirm', HIDE, async (request, reply) =>
    post(request, reply, changeForm, async () => {
      const account = await confirmedByPasskey(passkeys, accounts, request);
      const ticket = await tokens.issue(account.id, PURPOSE, TICKET_TTL_SECONDS);
      return newPasswordPage({ csrf: guard.token(request, reply) }, ticket, min);
    }),
  );

  server.post('/account/password/new', HIDE, async (request, reply) => {
    const ticket = formField(request.body, 'ticket', 200);
    return post(
      request,
      reply,
      async (state) => ((await holder(ticket)) ? newPasswordPage(state, ticket, min) : changeForm(state)),
      async () => {
        const account = await holder(ticket);
        if (!account) throw errors.LINK_INVALID(EXPIRED);
        const next = formField(request.body, 'password');
        // The policy first, so a refused password leaves the ticket for another try.
        await actions.changePassword(account, next, request.ip, exchange(request, reply), async () => {
          if ((await tokens.consume(ticket, PURPOSE)) !== account.id) throw errors.LINK_INVALID(EXPIRED);
        });
        return CHANGED;
      },
    );
  });
}
