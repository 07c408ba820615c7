/**
 * Adding a passkey (`/account/passkeys`), as plain forms plus one button that needs JavaScript:
 * 1. username, password — and the two-step code when that is on, or else one of the account's
 *    passkeys when it has some — checked like a sign-in (throttled): binding a new way in is not
 *    left to whoever holds a browser session or knows only the password;
 * 2. the registration options (challenge kept server-side under the form's single-use ticket,
 *    5 min) and a button that runs navigator.credentials.create; the browser's answer is
 *    posted back, checked (challenge, origin, RP ID, user verification) and kept.
 * Each passkey added is in the audit log (`account.passkey_added`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formField, formPages } from '../api/forms.ts';
import type { Account, AccountService } from '../domain/accounts.ts';
import type { PasskeyRefusal, PasskeyService } from '../domain/passkeys.ts';
import { errors } from '../errors.ts';
import { formPost, formRoutes } from './form-post.ts';
import type { SignInMethodPageDeps } from './page-deps.ts';
import { passkeyAddedPage, passkeyConfirmPage, passkeyCreatePage, passkeyStartPage } from './views.ts';

const HIDE = { schema: { hide: true } };
/** The challenge's key: the ticket itself is only in the form. */
const challengeKey = (ticket: string, step: 'register' | 'confirm' = 'register') =>
  `${step}:${createHash('sha256').update(ticket).digest('base64url')}`;

const REFUSALS: Record<PasskeyRefusal, string> = {
  no_challenge: 'This form has expired. Start again.',
  malformed: 'The browser did not send a passkey.',
  unknown_credential: 'That passkey is not known here.',
  not_verified:
    'The passkey could not be checked (it must be made for this site, with your screen lock or PIN).',
  counter: 'That passkey answer was used already.',
  duplicate: 'That passkey is registered already.',
};

/** The browser's answer (JSON in the form's `response` field); undefined when it is not JSON. */
function parseResponse(body: unknown): unknown {
  try {
    return JSON.parse(formField(body, 'response', 64 * 1024));
  } catch {
    return undefined;
  }
}

/**
 * The account whose passkey answered the confirmation challenge (`passkeyConfirmPage`) under
 * the form's ticket; the refusal as a problem.
 */
export async function confirmedByPasskey(
  passkeys: PasskeyService,
  accounts: AccountService,
  request: FastifyRequest,
): Promise<Account> {
  const outcome = await passkeys.signIn(
    challengeKey(formField(request.body, 'ticket', 200), 'confirm'),
    parseResponse(request.body),
  );
  if (outcome.kind === 'refused') {
    request.log.info({ event: 'passkey_refused', reason: outcome.reason, detail: outcome.detail });
    if (outcome.reason === 'no_challenge') throw errors.LINK_INVALID(REFUSALS.no_challenge);
    throw errors.PASSKEY_NOT_ACCEPTED(REFUSALS[outcome.reason]);
  }
  const account = await accounts.findById(outcome.accountId);
  if (!account || account.disabled) throw errors.LINK_INVALID(REFUSALS.no_challenge);
  return account;
}

/**
 * Who is changing how the account signs in: the form's username, password (in the field
 * `passwordField`) and two-step code. Without an app, a passkey is the account's second factor,
 * so the password alone does not do: the page asking for one of its passkeys (posted to
 * `purpose.action`) comes back instead.
 */
export async function reauthenticateFully(
  deps: Pick<SignInMethodPageDeps, 'reauthenticate' | 'passkeys' | 'guard'>,
  request: FastifyRequest,
  reply: FastifyReply,
  purpose?: { action: string; why: string },
  passwordField = 'password',
): Promise<{ account: Account } | { page: string }> {
  const b = request.body;
  const { account, totp } = await deps.reauthenticate({
    username: formField(b, 'username', 64),
    password: formField(b, passwordField),
    code: formField(b, 'code', 64),
    ip: request.ip,
  });
  if (totp || !(await deps.passkeys.has(account.id))) return { account };
  const ticket = randomBytes(32).toString('base64url');
  const options = await deps.passkeys.signInOptions(challengeKey(ticket, 'confirm'), account.id);
  return { page: passkeyConfirmPage({ csrf: deps.guard.token(request, reply) }, ticket, options, purpose) };
}

export async function passkeyRoutes(server: FastifyInstance, deps: SignInMethodPageDeps): Promise<void> {
  const { accounts, passkeys, audit, guard } = deps;
  await formPages(server);

  const post = formPost(guard, { scripts: true });

  /** The page with the registration options for `account`, under a new ticket. */
  async function createPage(request: FastifyRequest, reply: FastifyReply, account: Account) {
    const ticket = randomBytes(32).toString('base64url');
    const options = await passkeys.registrationOptions(account, challengeKey(ticket));
    return passkeyCreatePage(
      { csrf: guard.token(request, reply) },
      ticket,
      options,
      await passkeys.list(account.id),
    );
  }

  formRoutes(server, guard, post, '/account/passkeys', passkeyStartPage, async (request, reply) => {
    const who = await reauthenticateFully(deps, request, reply);
    return 'page' in who ? who.page : createPage(request, reply, who.account);
  });

  server.post('/account/passkeys/confirm', HIDE, async (request, reply) =>
    post(request, reply, passkeyStartPage, async () => {
      return createPage(request, reply, await confirmedByPasskey(passkeys, accounts, request));
    }),
  );

  server.post('/account/passkeys/register', HIDE, async (request, reply) =>
    post(request, reply, passkeyStartPage, async () => {
      const ticket = formField(request.body, 'ticket', 200);
      const response = parseResponse(request.body);
      const key = challengeKey(ticket);
      const accountId = await passkeys.challengeAccount(key);
      const account = accountId ? await accounts.findById(accountId) : undefined;
      if (!account || account.disabled) throw errors.LINK_INVALID(REFUSALS.no_challenge);
      const outcome = await passkeys.register(account, key, response);
      if (outcome.kind === 'refused') {
        request.log.info({
          event: 'passkey_refused',
          sub: account.id,
          reason: outcome.reason,
          detail: outcome.detail,
        });
        if (outcome.reason === 'duplicate') throw errors.PASSKEY_ALREADY_REGISTERED(REFUSALS.duplicate);
        throw errors.PASSKEY_NOT_ACCEPTED(REFUSALS[outcome.reason]);
      }
      await audit.record({
        actor: 'self',
        action: 'account.passkey_added',
        target: account.id,
        ip: request.ip,
        detail: { credential: outcome.passkey.id, device_type: outcome.passkey.deviceType },
      });
      return passkeyAddedPage((await passkeys.list(account.id)).length);
    }),
  );
}
