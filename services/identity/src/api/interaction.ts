/**
 * The login and consent steps oidc-provider hands over to us (`/interaction/:uid`).
 * Forms post back to the same origin; the interaction cookie is SameSite=Lax, so a
 * cross-site post arrives without it and is refused (no login CSRF). Results go back
 * to the provider with `interactionResult`, which answers with where to redirect.
 * An account with a second factor signs in in two steps: the right password is noted on the
 * interaction (server-side, bound to this browser's interaction cookie) and the code page
 * shown; only the right code finishes the login, with `amr` and `acr` saying both were used.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionDetails, InteractionResult } from 'oidc-provider';
import type { IdentityConfig } from '../config.ts';
import type { Account, AccountService } from '../domain/accounts.ts';
import type { AuditService } from '../domain/audit.ts';
import type { LoginService } from '../domain/login.ts';
import type { PasskeyRefusal, PasskeyService } from '../domain/passkeys.ts';
import { scopePolicy } from '../domain/scope-policy.ts';
import { AMR, type SecondFactorService } from '../domain/second-factor.ts';
import { errors } from '../errors.ts';
import { loginWith } from '../oidc/authentication-context.ts';
import { formField, formPages, html } from './forms.ts';
import { consentPage, describeScope, errorPage, loginPage, secondFactorPage } from './views.ts';

/** Why a passkey sign-in was refused, as the login page says it. */
const PASSKEY_REFUSALS: Record<PasskeyRefusal, string> = {
  no_challenge: 'This passkey sign-in has expired. Try again.',
  malformed: 'The browser did not send a passkey.',
  unknown_credential: 'That passkey is not known here. Sign in with your password.',
  not_verified: 'That passkey could not be checked. Try again, or sign in with your password.',
  counter: 'That passkey answer was used already. Try again.',
  duplicate: 'That passkey is registered already.',
};

/** Where the interaction keeps "password passed, code pending" until the code comes. */
const PENDING = 'portico_second_factor';

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountService;
  login: LoginService;
  secondFactor: SecondFactorService;
  passkeys: PasskeyService;
  audit: AuditService;
  config: IdentityConfig;
  /** Mails a fresh link to confirm the account's address. */
  sendVerification(account: Account): Promise<void>;
}

export async function interactionRoutes(server: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { provider, accounts, login, secondFactor, passkeys, audit, config, sendVerification } = deps;
  const { permitted } = scopePolicy(config.api.scopes);
  const firstParty = new Set(config.clients.filter((c) => c.first_party).map((c) => c.client_id));
  const links = {
    signup: config.accounts.signup,
    reset: Boolean(config.mail.smtpUrl || config.mail.devMailbox),
  };

  await formPages(server);

  async function details(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<InteractionDetails | undefined> {
    try {
      const found = await provider.interactionDetails(request.raw, reply.raw);
      const { uid } = request.params as { uid: string };
      // The cookie names the interaction; a URL for another one is a stale or forged link.
      if (found.uid !== uid) throw new Error('interaction mismatch');
      return found;
    } catch {
      html(
        reply,
        400,
        errorPage('invalid_request', 'This sign-in has expired or was started in another browser window.'),
      );
      return undefined;
    }
  }

  async function finish(
    request: FastifyRequest,
    reply: FastifyReply,
    result: InteractionResult,
    merge: boolean,
  ) {
    const to = await provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: merge,
    });
    return reply.code(303).headers({ 'cache-control': 'no-store' }).redirect(to, 303);
  }

  async function clientName(clientId: string | undefined): Promise<string> {
    const client = clientId ? await provider.Client.find(clientId) : undefined;
    return client?.clientName ?? clientId ?? 'an application';
  }

  /** The resource scopes this account may be given; the rest are refused at consent. */
  /** Grants what the interaction asks for, less the API scopes the account's roles do not allow. */
  async function approve(
    interaction: InteractionDetails,
    account: { id: string; roles: string[] },
  ): Promise<string | undefined> {
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details;
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: account.id, clientId: interaction.params.client_id! });
    if (!grant) return undefined;
    if (missingOIDCScope?.length) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims?.length) grant.addOIDCClaims(missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
      const allowed = scopes.filter((s) => permitted(s, account.roles));
      const refused = scopes.filter((s) => !permitted(s, account.roles));
      if (allowed.length) grant.addResourceScope(resource, allowed.join(' '));
      if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
    }
    return grant.save();
  }

  server.get('/interaction/:uid', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    const name = await clientName(interaction.params.client_id);
    if (interaction.prompt.name === 'login') {
      return html(
        reply,
        200,
        loginPage({
          ...links,
          uid: interaction.uid,
          clientName: name,
          username: interaction.params.login_hint,
        }),
        { scripts: true },
      );
    }
    if (interaction.prompt.name === 'consent') {
      const account = interaction.session
        ? await accounts.findById(interaction.session.accountId)
        : undefined;
      if (!account) return html(reply, 400, errorPage('login_required', 'Sign in again.'));
      if (firstParty.has(interaction.params.client_id as string)) {
        const grantId = await approve(interaction, account);
        if (!grantId) return html(reply, 400, errorPage('invalid_request', 'This sign-in has expired.'));
        return finish(request, reply, { consent: interaction.grantId ? {} : { grantId } }, true);
      }
      const { missingOIDCScope = [], missingResourceScopes = {} } = interaction.prompt.details;
      const resourceScopes = Object.values(missingResourceScopes)
        .flat()
        .filter((s) => permitted(s, account.roles));
      const scopes = [...new Set([...missingOIDCScope, ...resourceScopes])].map((s) => ({
        name: s,
        description: describeScope(s),
      }));
      return html(
        reply,
        200,
        consentPage({ uid: interaction.uid, clientName: name, username: account.username, scopes }),
      );
    }
    return html(reply, 400, errorPage('invalid_request', `Unsupported step ${interaction.prompt.name}`));
  });

  server.post('/interaction/:uid/login', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    if (interaction.prompt.name !== 'login') {
      return html(reply, 400, errorPage('invalid_request', 'You are already signed in.'));
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.trim().slice(0, 64) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const name = await clientName(interaction.params.client_id);
    // The login page again, with what went wrong and the username kept.
    const refuse = (status: number, error: string) =>
      html(reply, status, loginPage({ ...links, uid: interaction.uid, clientName: name, username, error }), {
        scripts: true,
      });
    if (!username || !password) {
      return refuse(400, 'Enter your username and password.');
    }
    const outcome = await login.check(username, password, request.ip);
    if (outcome.kind === 'throttled') return throttled(reply, outcome.retryAfter, refuse);
    if (outcome.kind === 'invalid') {
      request.log.info({ event: 'login_failed' }, 'sign-in failed');
      return refuse(401, 'Wrong username or password.');
    }
    // Told only to someone who knows the password, so these say nothing to a guesser.
    if (outcome.account.disabled) {
      request.log.info({ event: 'login_disabled', sub: outcome.account.id }, 'sign-in to a disabled account');
      return refuse(403, 'This account is disabled.');
    }
    if (outcome.account.email && !outcome.account.emailVerified) {
      await sendVerification(outcome.account).catch((err) =>
        request.log.error({ err }, 'could not send the verification mail'),
      );
      return refuse(403, `Confirm your email address first: we sent a new link to ${outcome.account.email}.`);
    }
    const passkey = await passkeys.has(outcome.account.id);
    if (outcome.secondFactor || passkey) {
      interaction.result = { [PENDING]: { accountId: outcome.account.id } };
      await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
      return html(
        reply,
        200,
        secondFactorPage({ uid: interaction.uid, clientName: name, totp: outcome.secondFactor, passkey }),
        { scripts: passkey },
      );
    }
    request.log.info({ event: 'login', sub: outcome.account.id }, 'signed in');
    return finish(request, reply, { login: loginWith(outcome.account.id, [AMR.password]) }, false);
  });

  // The challenge for a passkey sign-in, kept under this interaction (2 min, spent by the answer).
  server.post('/interaction/:uid/passkey/options', { schema: { hide: true } }, async (request, reply) => {
    let interaction: InteractionDetails;
    try {
      interaction = await provider.interactionDetails(request.raw, reply.raw);
    } catch {
      throw errors.INTERACTION_EXPIRED('This sign-in has expired or was started in another browser window.');
    }
    const { uid } = request.params as { uid: string };
    if (interaction.uid !== uid || interaction.prompt.name !== 'login') {
      throw errors.INTERACTION_EXPIRED('This sign-in has expired or was started in another browser window.');
    }
    const pending = interaction.result?.[PENDING] as { accountId?: string } | undefined;
    return reply
      .header('cache-control', 'no-store')
      .send(await passkeys.signInOptions(`login:${uid}`, pending?.accountId));
  });

  server.post('/interaction/:uid/passkey', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    const name = await clientName(interaction.params.client_id);
    // After the password (two-step), the answer must be that account's passkey, and a refusal
    // shows the second step again; else it is a sign-in with the passkey alone.
    const pending = (interaction.result?.[PENDING] as { accountId?: string } | undefined)?.accountId;
    const pendingAccount = pending ? await accounts.findById(pending) : undefined;
    const hasTotp = pendingAccount ? await secondFactor.enrolled(pendingAccount.id) : false;
    const refuse = (status: number, error: string) =>
      html(
        reply,
        status,
        pendingAccount
          ? secondFactorPage({ uid: interaction.uid, clientName: name, error, totp: hasTotp, passkey: true })
          : loginPage({ ...links, uid: interaction.uid, clientName: name, error }),
        { scripts: true },
      );
    if (interaction.prompt.name !== 'login') {
      return html(reply, 400, errorPage('invalid_request', 'You are already signed in.'));
    }
    let response: unknown;
    try {
      response = JSON.parse(formField(request.body, 'response', 64 * 1024));
    } catch {
      return refuse(400, PASSKEY_REFUSALS.malformed);
    }
    const outcome = await passkeys.signIn(`login:${interaction.uid}`, response);
    if (outcome.kind === 'refused') {
      request.log.info(
        { event: 'passkey_login_failed', reason: outcome.reason, detail: outcome.detail },
        'passkey sign-in refused',
      );
      return refuse(
        outcome.reason === 'no_challenge' || outcome.reason === 'malformed' ? 400 : 401,
        PASSKEY_REFUSALS[outcome.reason],
      );
    }
    const account = await accounts.findById(outcome.accountId);
    if (!account || account.disabled) return refuse(403, 'This account is disabled.');
    if (account.email && !account.emailVerified) {
      return refuse(403, 'Confirm your email address first: sign in with your password to get a new link.');
    }
    if (pending && pending !== account.id) return refuse(401, PASSKEY_REFUSALS.unknown_credential);
    request.log.info(
      { event: 'login', sub: account.id, method: 'passkey', after: pending ? 'pwd' : undefined },
      'signed in',
    );
    const methods = pending ? [AMR.password, ...outcome.methods] : outcome.methods;
    return finish(request, reply, { login: loginWith(account.id, methods) }, false);
  });

  server.post('/interaction/:uid/second-factor', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    const pending = interaction.result?.[PENDING] as { accountId?: string } | undefined;
    const account =
      interaction.prompt.name === 'login' && pending?.accountId
        ? await accounts.findById(pending.accountId)
        : undefined;
    if (!account || account.disabled) {
      return html(reply, 400, errorPage('invalid_request', 'Sign in with your password first.'));
    }
    const name = await clientName(interaction.params.client_id);
    const refuse = (status: number, error: string) =>
      html(reply, status, secondFactorPage({ uid: interaction.uid, clientName: name, error }));
    const code = formField(request.body, 'code', 64).trim();
    if (!code) return refuse(400, 'Enter the code from your authenticator app, or a recovery code.');
    const outcome = await secondFactor.verify(account, code, request.ip);
    if (outcome.kind === 'throttled') return throttled(reply, outcome.retryAfter, refuse);
    if (outcome.kind === 'invalid') {
      request.log.info({ event: 'second_factor_failed', sub: account.id }, 'second factor refused');
      return refuse(401, 'That code is not right, or it has been used already.');
    }
    if (outcome.method === 'recovery') {
      await audit.record({
        actor: 'self',
        action: 'account.recovery_code_used',
        target: account.id,
        ip: request.ip,
        detail: { left: outcome.recoveryCodesLeft },
      });
    }
    request.log.info({ event: 'login', sub: account.id, method: outcome.method }, 'signed in');
    return finish(request, reply, { login: loginWith(account.id, [AMR.password, AMR.otp]) }, false);
  });

  server.post('/interaction/:uid/confirm', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    if (interaction.prompt.name !== 'consent' || !interaction.session) {
      return html(reply, 400, errorPage('invalid_request', 'Nothing to confirm.'));
    }
    const account = await accounts.findById(interaction.session.accountId);
    if (!account) return html(reply, 400, errorPage('login_required', 'Sign in again.'));
    const grantId = await approve(interaction, account);
    if (!grantId) return html(reply, 400, errorPage('invalid_request', 'This sign-in has expired.'));
    return finish(request, reply, { consent: interaction.grantId ? {} : { grantId } }, true);
  });

  server.post('/interaction/:uid/abort', { schema: { hide: true } }, async (request, reply) => {
    const interaction = await details(request, reply);
    if (!interaction) return reply;
    return finish(
      request,
      reply,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in' },
      false,
    );
  });
}

/** The sign-in step's page again as 429 with Retry-After, the wait said in minutes. */
function throttled<T>(
  reply: FastifyReply,
  retryAfter: number,
  refuse: (status: number, error: string) => T,
): T {
  reply.header('retry-after', String(retryAfter));
  return refuse(429, `Too many failed sign-ins. Try again in ${Math.ceil(retryAfter / 60)} minute(s).`);
}
