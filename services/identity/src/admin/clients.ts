/**
 * OAuth clients from the admin API. Clients from config are listed but read-only (they are
 * the provider's static clients, and config is their source of truth); clients made here
 * live in the database (domain/clients.ts) and the provider reads them at each use
 * (oidc/client-adapter.ts). A secret is made here, shown once in the answer, and kept sealed.
 */
import { randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { ClientConfig } from '../config.ts';
import type { AuditService } from '../domain/audit.ts';
import type { ClientService, OidcClient } from '../domain/clients.ts';
import { errors } from '../errors.ts';
import { type Actor, recordAdminAction } from './actor.ts';

export type ClientType = 'confidential' | 'public';

export interface ClientView {
  client_id: string;
  client_name: string | null;
  type: ClientType;
  source: 'config' | 'admin';
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  disabled: boolean;
  created_at: string | null;
  updated_at: string | null;
}

export interface NewClient {
  client_name: string;
  type: ClientType;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  scope: string;
}

/** What an admin may change of a client made here; what is absent stays as it is. */
export interface ClientChanges {
  client_name?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
}

export interface AdminClients {
  list(): Promise<ClientView[]>;
  create(actor: Actor, input: NewClient): Promise<{ client: ClientView; secret: string | null }>;
  update(actor: Actor, clientId: string, changes: ClientChanges): Promise<ClientView>;
  rotateSecret(actor: Actor, clientId: string): Promise<{ client: ClientView; secret: string }>;
  disable(actor: Actor, clientId: string): Promise<ClientView>;
  enable(actor: Actor, clientId: string): Promise<ClientView>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const newSecret = () => randomBytes(32).toString('base64url');

/** https anywhere, http only on a loopback host; never a fragment (RFC 6749 §3.1.2). */
export function checkRedirectUri(value: string, field: string): string {
  const fail = (why: string) =>
    errors.INVALID_REDIRECT_URI(`${field} ${why}`, {
      extensions: { errors: [{ field, code: 'INVALID_REDIRECT_URI', message: `${field} ${why}` }] },
    });
  if (value.includes('#')) throw fail('must not have a fragment');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail('is not an absolute URL');
  }
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return value;
  throw fail('must use https (http only on localhost or 127.0.0.1)');
}

function checkRedirectUris(values: string[], field: string): string[] {
  return values.map((u, i) => checkRedirectUri(u, `${field}[${i}]`));
}

function fromConfig(c: ClientConfig): ClientView {
  return {
    client_id: c.client_id,
    client_name: c.client_name ?? null,
    type: c.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    source: 'config',
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: c.grant_types,
    scope: c.scope,
    disabled: false,
    created_at: null,
    updated_at: null,
  };
}

function fromAdmin(c: OidcClient): ClientView {
  const m = c.metadata as {
    client_name?: string;
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    scope?: string;
  };
  return {
    client_id: c.clientId,
    client_name: m.client_name ?? null,
    type: c.hasSecret ? 'confidential' : 'public',
    source: 'admin',
    redirect_uris: m.redirect_uris ?? [],
    post_logout_redirect_uris: m.post_logout_redirect_uris ?? [],
    grant_types: m.grant_types ?? [],
    scope: m.scope ?? '',
    disabled: c.disabled,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function adminClients(deps: {
  configClients: ClientConfig[];
  clients: ClientService;
  provider: Provider;
  audit: AuditService;
  /** Every scope the provider knows (OpenID and API). */
  scopes: readonly string[];
}): AdminClients {
  const { clients, provider, audit } = deps;
  const configured = new Map(deps.configClients.map((c) => [c.client_id, c]));
  const known = new Set(deps.scopes);
  const record = (actor: Actor, action: string, target: string, detail: Record<string, unknown>) =>
    recordAdminAction(audit, actor, action, target, detail);

  /** The provider's own check of the metadata, as a problem. */
  async function validate(clientId: string, metadata: Record<string, unknown>, secret: string | null) {
    try {
      await provider.Client.validate({
        ...metadata,
        client_id: clientId,
        ...(secret ? { client_secret: secret } : {}),
      });
    } catch (err) {
      const message = (err as { error_description?: string }).error_description ?? (err as Error).message;
      throw errors.INVALID_CLIENT_METADATA(message);
    }
  }

  async function stored(clientId: string): Promise<OidcClient> {
    if (configured.has(clientId))
      throw errors.CLIENT_READ_ONLY(
        `${clientId} comes from the identity service's configuration; change it there, not here`,
      );
    const found = await clients.get(clientId);
    if (!found) throw errors.CLIENT_NOT_FOUND(`No client ${clientId}`);
    return found;
  }

  return {
    async list() {
      return [...deps.configClients.map(fromConfig), ...(await clients.list()).map(fromAdmin)];
    },
    async create(actor, input) {
      const redirect_uris = checkRedirectUris(input.redirect_uris, 'redirect_uris');
      const post_logout_redirect_uris = checkRedirectUris(
        input.post_logout_redirect_uris ?? [],
        'post_logout_redirect_uris',
      );
      const scopes = input.scope.split(' ').filter(Boolean);
      const unknown = scopes.filter((s) => !known.has(s));
      if (scopes.length === 0 || unknown.length > 0) {
        const message =
          scopes.length === 0 ? 'scope is empty' : `scope has unknown scopes: ${unknown.join(' ')}`;
        throw errors.INVALID_SCOPE(message, {
          extensions: { errors: [{ field: 'scope', code: 'INVALID_SCOPE', message }] },
        });
      }
      const confidential = input.type === 'confidential';
      const clientId = `client-${randomBytes(9).toString('base64url')}`;
      const metadata: Record<string, unknown> = {
        client_name: input.client_name,
        application_type: 'web',
        token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris,
        ...(post_logout_redirect_uris.length > 0 ? { post_logout_redirect_uris } : {}),
        scope: [...new Set(scopes)].join(' '),
      };
      const secret = confidential ? newSecret() : null;
      await validate(clientId, metadata, secret);
      const created = await clients.insert(clientId, metadata, secret);
      await record(actor, 'client.create', clientId, {
        client_name: input.client_name,
        type: input.type,
        redirect_uris,
      });
      return { client: fromAdmin(created), secret };
    },
    async update(actor, clientId, changes) {
      const current = await stored(clientId);
      const before = fromAdmin(current);
      const metadata = { ...current.metadata };
      if (changes.client_name !== undefined) metadata.client_name = changes.client_name.trim();
      if (changes.redirect_uris !== undefined)
        metadata.redirect_uris = checkRedirectUris(changes.redirect_uris, 'redirect_uris');
      if (changes.post_logout_redirect_uris !== undefined) {
        const uris = checkRedirectUris(changes.post_logout_redirect_uris, 'post_logout_redirect_uris');
        if (uris.length > 0) metadata.post_logout_redirect_uris = uris;
        else delete metadata.post_logout_redirect_uris;
      }
      // A stand-in secret: the provider wants one for a confidential client; the stored one is kept.
      await validate(clientId, metadata, current.hasSecret ? newSecret() : null);
      const updated = fromAdmin((await clients.update(clientId, metadata))!);
      const changed = (['client_name', 'redirect_uris', 'post_logout_redirect_uris'] as const).filter(
        (k) => JSON.stringify(before[k]) !== JSON.stringify(updated[k]),
      );
      if (changed.length > 0)
        await record(
          actor,
          'client.update',
          clientId,
          Object.fromEntries(changed.map((k) => [k, { from: before[k], to: updated[k] }])),
        );
      return updated;
    },
    async rotateSecret(actor, clientId) {
      const current = await stored(clientId);
      if (!current.hasSecret)
        throw errors.CLIENT_NOT_CONFIDENTIAL(`${clientId} is a public client: it has no secret`);
      if (current.disabled) throw errors.CLIENT_DISABLED(`${clientId} is disabled`);
      const secret = newSecret();
      const updated = (await clients.setSecret(clientId, secret))!;
      await record(actor, 'client.secret_rotate', clientId, {});
      return { client: fromAdmin(updated), secret };
    },
    async disable(actor, clientId) {
      const current = await stored(clientId);
      if (current.disabled) return fromAdmin(current);
      const updated = (await clients.disable(clientId))!;
      await record(actor, 'client.disable', clientId, {});
      return fromAdmin(updated);
    },
    async enable(actor, clientId) {
      const current = await stored(clientId);
      if (!current.disabled) return fromAdmin(current);
      const updated = (await clients.enable(clientId))!;
      await record(actor, 'client.enable', clientId, {});
      return fromAdmin(updated);
    },
  };
}
