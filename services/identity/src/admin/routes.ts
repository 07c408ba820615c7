/**
 * The admin API (`/admin/...`): accounts, their sessions and grants, clients, signing keys, the audit log and
 * the development mailbox. Every route needs an access token from this issuer with the
 * admin role, and every write (not a read) also a two-step sign-in (`amr` has `mfa`) unless
 * `admin.requireMfa` is off; the handlers map HTTP to admin/users.ts, admin/clients.ts and admin/keys.ts and nothing more.
 */
import { authenticate, authorize, BEARER_SCHEME, describeAccess, type TokenVerifier } from '@portico/auth';
import { ProblemSchema } from '@portico/http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { Account } from '../domain/accounts.ts';
import type { AuditService } from '../domain/audit.ts';
import { errors } from '../errors.ts';
import type { DevMailbox } from '../mail/dev-mailbox.ts';
import type { Actor } from './actor.ts';
import type { AdminClients } from './clients.ts';
import type { AdminKeys } from './keys.ts';
import type { AdminUsers } from './users.ts';

const ADMIN = { roles: ['admin'] };
const tags = ['admin'];
const problems = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};

const Role = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' });
const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  email_verified: Type.Boolean(),
  roles: Type.Array(Type.String()),
  disabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const Session = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
});
const Grant = Type.Object({
  id: Type.String(),
  client_id: Type.Union([Type.String(), Type.Null()]),
  client_name: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
  created_at: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Search = Type.Object({
  q: Type.String({ maxLength: 100, default: '' }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});
const NewUserBody = Type.Object(
  {
    username: Type.String({ maxLength: 64 }),
    password: Type.String({ maxLength: 1024 }),
    /** @default ['customer'] */
    roles: Type.Optional(Type.Array(Role, { maxItems: 10 })),
    name: Type.Optional(Type.String({ maxLength: 100 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
  },
  { additionalProperties: false },
);
const RolesBody = Type.Object({ roles: Type.Array(Role, { maxItems: 10 }) }, { additionalProperties: false });
const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
const Message = Type.Object({
  id: Type.String(),
  received_at: Type.String(),
  from: Type.String(),
  to: Type.Array(Type.String()),
  subject: Type.String(),
  text: Type.String(),
});

function toUser(a: Account) {
  return {
    id: a.id,
    username: a.username,
    name: a.name,
    email: a.email,
    email_verified: a.emailVerified,
    roles: a.roles,
    disabled: a.disabled,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export interface AdminRouteDeps {
  verifier: TokenVerifier;
  users: AdminUsers;
  keys: AdminKeys;
  clients: AdminClients;
  audit: AuditService;
  mailbox: DevMailbox | undefined;
  /** Writes need a token from a two-step sign-in. */
  requireMfa: boolean;
}

export async function adminRoutes(server: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  // In OpenAPI: any access token from this issuer (no scope names the admin API).
  describeAccess(server, deps.verifier.issuer, () => []);
  server.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: route.schema?.security ?? [{ [BEARER_SCHEME]: [] }] };
  });
  const { users, audit, mailbox } = deps;
  const preHandler = [authenticate(deps.verifier), authorize(ADMIN)];
  const write = [authenticate(deps.verifier), authorize({ ...ADMIN, mfa: deps.requireMfa })];
  const actor = (request: FastifyRequest): Actor => ({
    sub: request.auth!.sub,
    ip: request.ip,
    ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}),
  });
  const user = (a: Account) => ({ data: toUser(a) });
  const UserEnvelope = Type.Object({ data: User });

  server.get(
    '/admin/users',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Search accounts by username, name or email',
        querystring: Search,
        response: { 200: Type.Object({ data: Type.Array(User), total: Type.Integer() }), ...problems },
      },
    },
    async (request) => {
      const { q = '', limit = 20, offset = 0 } = request.query as Partial<Static<typeof Search>>;
      const found = await users.search(q.trim(), limit, offset);
      return { data: found.items.map(toUser), total: found.total };
    },
  );

  server.post(
    '/admin/users',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'Create an account (its address counts as confirmed)',
        body: NewUserBody,
        response: { 201: UserEnvelope, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof NewUserBody>;
      const created = await users.create(actor(request), {
        username: body.username,
        password: body.password,
        roles: [...new Set(body.roles ?? ['customer'])],
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.email !== undefined ? { email: body.email } : {}),
      });
      return reply.code(201).header('location', `/admin/users/${created.id}`).send(user(created));
    },
  );

  server.get(
    '/admin/users/:id',
    {
      preHandler,
      schema: {
        tags,
        summary: 'An account with its live sessions and grants',
        params: IdParams,
        response: {
          200: Type.Object({
            data: User,
            mfa: Type.Object({
              totp: Type.Boolean(),
              recovery_codes_left: Type.Integer(),
              passkeys: Type.Integer(),
            }),
            sessions: Type.Array(Session),
            grants: Type.Array(Grant),
          }),
          ...problems,
        },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const account = await users.get(id);
      const [mfa, live, grants] = await Promise.all([
        users.secondFactorOf(id),
        users.sessions(id),
        users.grants(id),
      ]);
      return {
        data: toUser(account),
        mfa: { totp: mfa.totp, recovery_codes_left: mfa.recoveryCodesLeft, passkeys: mfa.passkeys },
        sessions: live,
        grants,
      };
    },
  );

  server.get(
    '/admin/users/:id/sessions',
    {
      preHandler,
      schema: {
        tags,
        summary: "The account's live browser sessions, newest first",
        params: IdParams,
        response: { 200: Type.Object({ data: Type.Array(Session) }), ...problems },
      },
    },
    async (request) => ({ data: await users.sessions((request.params as Static<typeof IdParams>).id) }),
  );

  server.get(
    '/admin/users/:id/grants',
    {
      preHandler,
      schema: {
        tags,
        summary: "The account's live grants (what it let each client do), newest first",
        params: IdParams,
        response: { 200: Type.Object({ data: Type.Array(Grant) }), ...problems },
      },
    },
    async (request) => ({ data: await users.grants((request.params as Static<typeof IdParams>).id) }),
  );

  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    server.post(
      `/admin/users/:id/${path}`,
      {
        preHandler: write,
        schema: {
          tags,
          summary: disabled
            ? 'Disable an account: no sign-in, its tokens stop within seconds'
            : 'Enable a disabled account',
          params: IdParams,
          response: { 200: UserEnvelope, ...problems },
        },
      },
      async (request) => {
        const { id } = request.params as Static<typeof IdParams>;
        return user(await users.setDisabled(actor(request), id, disabled));
      },
    );
  }

  server.put(
    '/admin/users/:id/roles',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'Replace the roles (in tokens from the next refresh on)',
        params: IdParams,
        body: RolesBody,
        response: { 200: UserEnvelope, ...problems },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const { roles } = request.body as Static<typeof RolesBody>;
      return user(await users.setRoles(actor(request), id, [...new Set(roles)]));
    },
  );

  server.delete(
    '/admin/users/:id/mfa',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'Reset two-step sign-in: remove the authenticator and recovery codes (a lost phone)',
        params: IdParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await users.resetSecondFactor(actor(request), id);
      return reply.code(204).send();
    },
  );

  const GrantParams = Type.Object({
    id: IdParams.properties.id,
    grant: Type.String({ minLength: 1, maxLength: 200 }),
  });
  server.delete(
    '/admin/users/:id/grants/:grant',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'Revoke a grant: its refresh tokens now, its access tokens within seconds',
        params: GrantParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      const { id, grant } = request.params as Static<typeof GrantParams>;
      await users.revokeGrant(actor(request), id, grant);
      return reply.code(204).send();
    },
  );

  const SessionParams = Type.Object({
    id: IdParams.properties.id,
    session: Type.String({ minLength: 1, maxLength: 200 }),
  });
  server.delete(
    '/admin/users/:id/sessions/:session',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'End a browser session (the user signs in again)',
        params: SessionParams,
        response: { 204: Type.Null(), ...problems },
      },
    },
    async (request, reply) => {
      const { id, session } = request.params as Static<typeof SessionParams>;
      await users.endSession(actor(request), id, session);
      return reply.code(204).send();
    },
  );

  const Client = Type.Object({
    client_id: Type.String(),
    client_name: Type.Union([Type.String(), Type.Null()]),
    type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
    source: Type.Union([Type.Literal('config'), Type.Literal('admin')]),
    redirect_uris: Type.Array(Type.String()),
    post_logout_redirect_uris: Type.Array(Type.String()),
    grant_types: Type.Array(Type.String()),
    scope: Type.String(),
    disabled: Type.Boolean(),
    created_at: Type.Union([Type.String(), Type.Null()]),
    updated_at: Type.Union([Type.String(), Type.Null()]),
  });
  const Uri = Type.String({ minLength: 1, maxLength: 2000 });
  const NewClientBody = Type.Object(
    {
      client_name: Type.String({ minLength: 1, maxLength: 100 }),
      type: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
      redirect_uris: Type.Array(Uri, { minItems: 1, maxItems: 10 }),
      post_logout_redirect_uris: Type.Optional(Type.Array(Uri, { maxItems: 10 })),
      scope: Type.String({ minLength: 1, maxLength: 1000 }),
    },
    { additionalProperties: false },
  );
  // The secret is in this answer only: it is kept sealed and never shown again.
  const WithSecret = Type.Object({ data: Client, client_secret: Type.Union([Type.String(), Type.Null()]) });
  server.get(
    '/admin/clients',
    {
      preHandler,
      schema: {
        tags,
        summary: 'OAuth clients: from config (read-only) and made here',
        response: { 200: Type.Object({ data: Type.Array(Client) }), ...problems },
      },
    },
    async () => ({ data: await deps.clients.list() }),
  );
  server.post(
    '/admin/clients',
    {
      preHandler: write,
      schema: {
        tags,
        summary: 'Make a client; a confidential one gets a secret, shown in this answer only',
        body: NewClientBody,
        response: { 201: WithSecret, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof NewClientBody>;
      const { client, secret } = await deps.clients.create(actor(request), body);
      return reply
        .code(201)
        .header('location', `/admin/clients/${client.client_id}`)
        .send({ data: client, client_secret: secret });
    },
  );
  server.post(
    '/admin/clients/:id/secret',
    {
      preHandler: write,
      schema: {
        tags,
        summary:
          'Give a confidential client a new secret (the old one stops at once), shown in this answer only',
        params: IdParams,
        response: { 200: WithSecret, ...problems },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const { client, secret } = await deps.clients.rotateSecret(actor(request), id);
      return { data: client, client_secret: secret };
    },
  );
  const ClientChanges = Type.Object(
    {
      client_name: Type.Optional(NewClientBody.properties.client_name),
      redirect_uris: Type.Optional(NewClientBody.properties.redirect_uris),
      post_logout_redirect_uris: NewClientBody.properties.post_logout_redirect_uris,
    },
    { additionalProperties: false, minProperties: 1 },
  );
  server.patch(
    '/admin/clients/:id',
    {
      preHandler: write,
      schema: {
        tags,
        summary:
          'Change the name or the (post-logout) redirect URIs of a client made here; what the body leaves out stays',
        params: IdParams,
        body: ClientChanges,
        response: { 200: Type.Object({ data: Client }), ...problems },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      return {
        data: await deps.clients.update(actor(request), id, request.body as Static<typeof ClientChanges>),
      };
    },
  );
  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    server.post(
      `/admin/clients/:id/${path}`,
      {
        preHandler: write,
        schema: {
          tags,
          summary: disabled
            ? 'Disable a client: no sign-in, token or refresh for it from now on'
            : 'Enable a disabled client: its unexpired refresh tokens work again (give it a new secret if it leaked)',
          params: IdParams,
          response: { 200: Type.Object({ data: Client }), ...problems },
        },
      },
      async (request) => {
        const { id } = request.params as Static<typeof IdParams>;
        const who = actor(request);
        return { data: await (disabled ? deps.clients.disable(who, id) : deps.clients.enable(who, id)) };
      },
    );
  }

  const SigningKey = Type.Object({
    kid: Type.String(),
    alg: Type.String(),
    created_at: Type.Union([Type.String(), Type.Null()]),
    signs_from: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('signing'), Type.Literal('next'), Type.Literal('verifying')]),
    published: Type.Boolean(),
    stored: Type.Boolean(),
  });
  const KeyOverview = Type.Object({ data: Type.Array(SigningKey) });
  server.get(
    '/admin/keys',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Signing keys: the one that signs now, the next one and from when, those that only verify',
        response: { 200: KeyOverview, ...problems },
      },
    },
    async () => ({ data: deps.keys.list().keys }),
  );
  server.post(
    '/admin/keys/rotate',
    {
      preHandler: write,
      schema: {
        tags,
        summary:
          'Add a new signing key: published at once, it signs from `signs_from` (a grace period on) without a restart; older keys keep verifying until their tokens expire',
        response: {
          201: Type.Object({
            ...KeyOverview.properties,
            added: Type.String(),
            signs_from: Type.String(),
            removed: Type.Array(Type.String()),
          }),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const result = await deps.keys.rotate(actor(request));
      return reply.code(201).send({
        data: result.overview.keys,
        added: result.added,
        signs_from: result.signs_from,
        removed: result.removed,
      });
    },
  );

  const AuditQuery = Type.Object({
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    target: Type.Optional(Type.String({ maxLength: 100 })),
    before: Type.Optional(Type.String({ maxLength: 40 })),
  });
  server.get(
    '/admin/audit',
    {
      preHandler,
      schema: {
        tags,
        summary: 'The audit log, newest first',
        querystring: AuditQuery,
        response: { 200: Type.Object({ data: Type.Array(AuditEntry) }), ...problems },
      },
    },
    async (request) => {
      const q = request.query as Partial<Static<typeof AuditQuery>>;
      return {
        data: await audit.list({
          limit: q.limit ?? 50,
          ...(q.target ? { target: q.target } : {}),
          ...(q.before ? { before: q.before } : {}),
        }),
      };
    },
  );

  const MailboxQuery = Type.Object({ to: Type.Optional(Type.String({ maxLength: 254 })) });
  const toMessage = (m: NonNullable<ReturnType<DevMailbox['get']>>) => ({
    id: m.id,
    received_at: m.receivedAt,
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
  });
  server.get(
    '/admin/mailbox',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Mail caught by the development mailbox, newest first',
        querystring: MailboxQuery,
        response: { 200: Type.Object({ data: Type.Array(Message) }), ...problems },
      },
    },
    async (request) => {
      if (!mailbox)
        throw errors.MAILBOX_DISABLED(
          'Mail goes to a real SMTP server here; there is no development mailbox',
        );
      const { to } = request.query as Static<typeof MailboxQuery>;
      return { data: mailbox.list(to ? { to } : {}).map(toMessage) };
    },
  );
  server.get(
    '/admin/mailbox/:id',
    {
      preHandler,
      schema: {
        tags,
        summary: 'One message of the development mailbox',
        params: IdParams,
        response: { 200: Type.Object({ data: Message }), ...problems },
      },
    },
    async (request) => {
      if (!mailbox)
        throw errors.MAILBOX_DISABLED(
          'Mail goes to a real SMTP server here; there is no development mailbox',
        );
      const { id } = request.params as Static<typeof IdParams>;
      const message = mailbox.get(id);
      if (!message) throw errors.MESSAGE_NOT_FOUND(`No message ${id}`);
      return { data: toMessage(message) };
    },
  );
}
