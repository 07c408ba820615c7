/**
 * A user's own sign-in methods (`/account/security`), as plain forms like the other account
 * pages:
 * 1. username, password and — when two-step sign-in is on — a code, checked like a sign-in;
 *    an account whose second step is a passkey then confirms with one of its passkeys. Only
 *    then does the page list the passkeys, the authenticator app and its recovery codes left,
 *    under a ticket (10 min, only its hash kept) that its forms carry;
 * 2. each change — a passkey named or removed, new recovery codes (shown once, the old ones void), the
 *    app turned off — asks for the password again (throttled like a sign-in); a wrong one
 *    changes nothing and shows the page again. Each change is in the audit log. Removing or
 *    replacing a factor (a passkey removed, new recovery codes, the app off) signs out every
 *    other session of the account, so whoever got in with the old factor is out; this browser stays.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formField, formPages } from '../api/forms.ts';
import type { Account } from '../domain/accounts.ts';
import { errors } from '../errors.ts';
import { formPost, formRoutes } from './form-post.ts';
import type { SignInMethodPageDeps } from './page-deps.ts';
import { confirmedByPasskey, reauthenticateFully } from './passkeys.ts';
import {
  type FormState,
  PASSKEY_NAME_MAX,
  type SecurityView,
  securityPage,
  securityStartPage,
} from './views.ts';

const HIDE = { schema: { hide: true } };
const TICKET_TTL_SECONDS = 600;
const EXPIRED = 'This page has expired. Confirm it is you again.';

type Change = Pick<SecurityView, 'done' | 'recoveryCodes'>;

export async function securityRoutes(server: FastifyInstance, deps: SignInMethodPageDeps): Promise<void> {
  const { accounts, tokens, reauthenticate, secondFactor, passkeys, audit, guard } = deps;
  await formPages(server);
  const OTHERS_OUT = ' Every other device signed in to your account is signed out.';
  const start = formPost(guard, { scripts: true });
  const change = formPost(guard, { keep: [] });

  async function overview(account: Account, ticket: string, state: FormState, changed: Change = {}) {
    const [list, totp, left] = await Promise.all([
      passkeys.list(account.id),
      secondFactor.enrolled(account.id),
      secondFactor.recoveryCodesLeft(account.id),
    ]);
    return securityPage(state, { ticket, passkeys: list, totp, recoveryCodesLeft: left, ...changed });
  }

  async function open(request: FastifyRequest, reply: FastifyReply, account: Account) {
    const ticket = await tokens.issue(account.id, 'manage-security', TICKET_TTL_SECONDS);
    return overview(account, ticket, { csrf: guard.token(request, reply) });
  }

  /** The account the page's ticket was issued for, while it is unexpired and may sign in. */
  async function holder(ticket: string): Promise<Account | undefined> {
    const accountId = await tokens.peek(ticket, 'manage-security');
    const account = accountId ? await accounts.findById(accountId) : undefined;
    return account && !account.disabled ? account : undefined;
  }

  formRoutes(server, guard, start, '/account/security', securityStartPage, async (request, reply) => {
    const who = await reauthenticateFully(deps, request, reply, {
      action: '/account/security/confirm',
      why: 'Use one of its passkeys to see and change how you sign in.',
    });
    return 'page' in who ? who.page : open(request, reply, who.account);
  });

  server.post('/account/security/confirm', HIDE, async (request, reply) =>
    start(request, reply, securityStartPage, async () =>
      open(request, reply, await confirmedByPasskey(passkeys, accounts, request)),
    ),
  );

  /**
   * A change on the page: the ticket's account, its password again, then `act`; the page again.
   * `endsOthers`: the change removes or replaces a factor, so the account's other sessions end.
   */
  function changeRoute(
    path: string,
    act: (account: Account, request: FastifyRequest) => Promise<Change>,
    { endsOthers = true } = {},
  ) {
    server.post(path, HIDE, async (request, reply) => {
      const ticket = formField(request.body, 'ticket', 200);
      return change(
        request,
        reply,
        async (state) => {
          const account = await holder(ticket);
          return account ? overview(account, ticket, state) : securityStartPage(state);
        },
        async () => {
          const account = await holder(ticket);
          if (!account) throw errors.LINK_INVALID(EXPIRED);
          await reauthenticate({
            username: account.username,
            password: formField(request.body, 'password'),
            ip: request.ip,
            secondFactorPassed: true,
          });
          const changed = await act(account, request);
          if (endsOthers) {
            await deps.endOtherSessions(account.id, { req: request.raw, res: reply.raw });
            changed.done = `${changed.done ?? ''}${OTHERS_OUT}`;
          }
          return overview(account, ticket, { csrf: guard.token(request, reply) }, changed);
        },
      );
    });
  }

  const record = (account: Account, request: FastifyRequest, action: string, detail = {}) =>
    audit.record({ actor: 'self', action, target: account.id, ip: request.ip, detail });

  changeRoute('/account/security/passkeys/remove', async (account, request) => {
    const credential = formField(request.body, 'credential', 1024);
    if (!(await passkeys.remove(account.id, credential)))
      throw errors.PASSKEY_NOT_FOUND('That passkey is not on this account (any more).');
    await record(account, request, 'account.passkey_removed', { credential });
    return {
      done: 'The passkey is removed: it no longer signs you in. Delete it from the device too, in its passkey settings.',
    };
  });

  changeRoute(
    '/account/security/passkeys/rename',
    async (account, request) => {
      const credential = formField(request.body, 'credential', 1024);
      const name = formField(request.body, `name:${credential}`, 1024).trim();
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
      if (!name || name.length > PASSKEY_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name))
        throw errors.INVALID_PASSKEY_NAME(`A passkey's name has 1 to ${PASSKEY_NAME_MAX} characters.`);
      if (!(await passkeys.rename(account.id, credential, name)))
        throw errors.PASSKEY_NOT_FOUND('That passkey is not on this account (any more).');
      await record(account, request, 'account.passkey_renamed', { credential, name });
      return { done: `The passkey is now called “${name}”.` };
    },
    { endsOthers: false },
  );

  changeRoute('/account/security/recovery-codes', async (account, request) => {
    const recoveryCodes = await secondFactor.newRecoveryCodes(account.id);
    if (!recoveryCodes)
      throw errors.SECOND_FACTOR_OFF('Two-step sign-in with an app is off: there are no recovery codes.');
    await record(account, request, 'account.recovery_codes_renewed');
    return { done: 'New recovery codes are below. The earlier ones no longer work.', recoveryCodes };
  });

  changeRoute('/account/security/two-step/off', async (account, request) => {
    if (!(await secondFactor.reset(account.id)))
      throw errors.SECOND_FACTOR_OFF('Two-step sign-in with an app is off already.');
    await record(account, request, 'account.second_factor_removed', { method: 'totp' });
    return { done: 'Two-step sign-in with the app is off: signing in no longer asks for its codes.' };
  });
}
