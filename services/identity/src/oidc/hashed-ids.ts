/**
 * oidc-provider stores each artefact under its id, and for codes, tokens, sessions and
 * interactions that id IS the secret the client or the browser presents. This wraps any
 * adapter (SQL, Redis) so those are kept under SHA-256 of the id, with the id (`jti`) and
 * any copy of a session id left out of the stored payload and put back from the presented
 * value on `find`. Reading the database yields no token, code or session one could use.
 *
 * Grants are not in the list: a grant id is an internal reference, never presented.
 * Device codes (RFC 8628) are not either: the provider finds one by its user code, changes it
 * and saves it back under its id, and keeps that id in the interaction to resume it, so the id
 * has to be readable where it is stored. A device code lives ten minutes, is only worth
 * anything between the user's approval and the device's next poll, and is redeemed once.
 */
import { secretKey } from '@portico/store/sql';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';

/** The oidc-provider models whose id is a bearer secret (cookie, code, or token value). */
export const SECRET_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'BackchannelAuthenticationRequest',
  'ClientCredentials',
  'InitialAccessToken',
  'Interaction',
  'PushedAuthorizationRequest',
  'RefreshToken',
  'RegistrationAccessToken',
  'Session',
]);

export function withHashedIds(Inner: AdapterConstructor): AdapterConstructor {
  return class HashedIdAdapter implements Adapter {
    readonly inner: Adapter;
    readonly secret: boolean;

    constructor(model: string) {
      this.inner = new Inner(model);
      this.secret = SECRET_MODELS.has(model);
    }

    key(id: string): string {
      return this.secret ? secretKey(id) : id;
    }

    upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      return this.inner.upsert(this.key(id), this.secret ? withoutSecrets(payload) : payload, expiresIn);
    }

    async find(id: string) {
      const found = await this.inner.find(this.key(id));
      return found && this.secret ? { ...found, jti: id } : found;
    }

    // Found by uid or user code, a secret artefact comes without its id: oidc-provider only
    // reads such a session (account, grants), never saves it back.
    findByUid(uid: string) {
      return this.inner.findByUid(uid);
    }

    findByUserCode(userCode: string) {
      return this.inner.findByUserCode(userCode);
    }

    consume(id: string) {
      return this.inner.consume(this.key(id));
    }

    destroy(id: string) {
      return this.inner.destroy(this.key(id));
    }

    revokeByGrantId(grantId: string) {
      return this.inner.revokeByGrantId(grantId);
    }
  };
}

function withoutSecrets(payload: AdapterPayload): AdapterPayload {
  const { jti: _jti, ...rest } = payload;
  // An interaction remembers its session's id as `session.cookie`; the provider never reads it.
  const session = rest.session as { cookie?: string } | undefined;
  if (session && typeof session === 'object' && 'cookie' in session) {
    const { cookie: _cookie, ...kept } = session;
    return { ...rest, session: kept } as AdapterPayload;
  }
  return rest;
}
