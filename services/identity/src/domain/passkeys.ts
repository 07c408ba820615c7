/**
 * Passkeys (WebAuthn Level 3, with `@simplewebauthn/server`): registering one for a signed-in
 * account, and signing in with one alone.
 * - The relying party is the issuer: its host is the RP ID and its origin the only origin a
 *   browser's answer may come from.
 * - Every ceremony needs user verification (PIN or biometric on the authenticator), so a
 *   passkey is something you have and something you know or are: a sign-in with one is
 *   multi-factor (RFC 8176 `hwk`/`swk` + `user`, so `mfa`).
 * - Credentials are discoverable (resident keys): the sign-in asks for no username, the
 *   authenticator offers its passkeys for this RP and names the one used.
 * - A challenge is random, kept server-side under what it was issued for (a registration
 *   form's ticket, a sign-in interaction), lives 2–5 minutes and is spent by the first answer.
 * - The signature counter must grow when the authenticator keeps one (a clone shows up as a
 *   counter that does not); it is moved by a conditional UPDATE.
 */

import type { Database } from '@portico/store/sql';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { passkeysTable } from '../data/passkeys.ts';
import type { IdentityDatabase, PasskeysTable } from '../data/schema.ts';
import { webauthnChallengesTable } from '../data/webauthn-challenges.ts';
import type { Account } from './accounts.ts';
import { AMR } from './second-factor.ts';

const REGISTRATION_TTL_SECONDS = 300;
const SIGN_IN_TTL_SECONDS = 120;

type Transport = NonNullable<RegistrationResponseJSON['response']['transports']>[number];

export interface Passkey {
  id: string;
  accountId: string;
  /** The COSE public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  createdAt: string;
  lastUsedAt: string | null;
  /** The owner's name for it; null: unnamed. */
  name: string | null;
}

/** A credential just registered: not yet used or named. */
export type NewPasskey = Omit<Passkey, 'createdAt' | 'lastUsedAt' | 'name'>;

export function toPasskey(row: PasskeysTable): Passkey {
  return {
    id: row.id,
    accountId: row.account_id,
    publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    name: row.name,
  };
}

/** The row a new credential is kept as. */
export function passkeyRow(passkey: NewPasskey, createdAt = new Date().toISOString()): PasskeysTable {
  return {
    id: passkey.id,
    account_id: passkey.accountId,
    public_key: Buffer.from(passkey.publicKey).toString('base64url'),
    counter: passkey.counter,
    transports: JSON.stringify(passkey.transports),
    device_type: passkey.deviceType,
    created_at: createdAt,
    last_used_at: null,
    name: null,
  };
}

export type PasskeyRefusal =
  /** No challenge for this key, it expired, or it was spent already. */
  | 'no_challenge'
  /** Not a WebAuthn response at all. */
  | 'malformed'
  /** The credential is not registered here. */
  | 'unknown_credential'
  /** The library refused it: wrong challenge, origin, RP ID, signature, or no user verification. */
  | 'not_verified'
  /** The counter did not grow: a cloned authenticator, or a concurrent replay. */
  | 'counter'
  /** The credential is registered already. */
  | 'duplicate';

export type SignInOutcome =
  | { kind: 'ok'; accountId: string; methods: string[]; passkey: Passkey }
  | { kind: 'refused'; reason: PasskeyRefusal; detail?: string };

export type RegistrationOutcome =
  | { kind: 'ok'; passkey: Passkey }
  | { kind: 'refused'; reason: PasskeyRefusal; detail?: string };

export interface PasskeyService {
  rpID: string;
  origin: string;
  /** Options for `navigator.credentials.create`, the challenge kept under `key` for `account`. */
  registrationOptions(account: Account, key: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Checks the browser's answer to the challenge under `key` and keeps the new passkey. */
  register(account: Account, key: string, response: unknown): Promise<RegistrationOutcome>;
  /**
   * Options for `navigator.credentials.get`, the challenge kept under `key`: any passkey of
   * this RP, or (as a second factor after the password) only `accountId`'s.
   */
  signInOptions(key: string, accountId?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Whether the account has a passkey. */
  has(accountId: string): Promise<boolean>;
  /** Checks an assertion against the challenge under `key`: whose passkey it was, and the methods. */
  signIn(key: string, response: unknown): Promise<SignInOutcome>;
  /** The account a registration challenge under `key` is for (unexpired, unspent). */
  challengeAccount(key: string): Promise<string | undefined>;
  list(accountId: string): Promise<Passkey[]>;
  /** Names one of the account's passkeys; false when it has none by that ID. */
  rename(accountId: string, id: string, name: string): Promise<boolean>;
  /** Removes one of the account's passkeys; false when it has none by that ID. */
  remove(accountId: string, id: string): Promise<boolean>;
  removeAll(accountId: string): Promise<number>;
  /** Drops expired challenges. */
  sweep(): Promise<void>;
}

export interface PasskeyDeps {
  /** The issuer URL: its host is the RP ID, its origin the expected origin. */
  issuer: string;
  rpName?: string;
}

/** The RFC 8176 methods a passkey stands for: a device-bound key is hardware, a synced one software. */
export function passkeyMethods(passkey: Pick<Passkey, 'deviceType'>): string[] {
  return [passkey.deviceType === 'singleDevice' ? AMR.hardwareKey : AMR.softwareKey, AMR.userPresence];
}

function isResponse<T extends { id: string; response: object }>(value: unknown): value is T {
  const v = value as { id?: unknown; rawId?: unknown; type?: unknown; response?: unknown } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.rawId === 'string' &&
    v.type === 'public-key' &&
    typeof v.response === 'object' &&
    v.response !== null
  );
}

export function createPasskeyService(
  database: Database<IdentityDatabase>,
  deps: PasskeyDeps,
): PasskeyService {
  const passkeys = passkeysTable(database.db);
  const challenges = webauthnChallengesTable(database.db);
  const issuer = new URL(deps.issuer);
  const rpID = issuer.hostname;
  const origin = issuer.origin;
  const rpName = deps.rpName ?? 'Portico';

  const list = async (accountId: string) => (await passkeys.ofAccount(accountId)).map(toPasskey);
  const putChallenge = (key: string, challenge: string, accountId: string | null, ttlSeconds: number) =>
    challenges.put({
      challenge_key: key,
      challenge,
      account_id: accountId,
      expires_at: Date.now() + ttlSeconds * 1000,
    });
  /** The unexpired challenge under `key`, spent: a second take finds nothing. */
  async function takeChallenge(key: string) {
    const row = await challenges.take(key);
    if (!row || Number(row.expires_at) <= Date.now()) return undefined;
    return { challenge: row.challenge, accountId: row.account_id };
  }
  /** What every answer must match: the challenge issued, this issuer's origin and RP ID, a verified user. */
  const expecting = (challenge: string) => ({
    expectedChallenge: challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  });

  return {
    rpID,
    origin,

    async registrationOptions(account, key) {
      const existing = await list(account.id);
      const options = await generateRegistrationOptions({
        rpName,
        rpID,
        userName: account.username,
        userDisplayName: account.name || account.username,
        // The user handle: the authenticator hands it back at sign-in, so it must name the account.
        userID: new TextEncoder().encode(account.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: REGISTRATION_TTL_SECONDS * 1000,
      });
      await putChallenge(key, options.challenge, account.id, REGISTRATION_TTL_SECONDS);
      return options;
    },

    async register(account, key, response) {
      const issued = await takeChallenge(key);
      if (!issued || issued.accountId !== account.id) return { kind: 'refused', reason: 'no_challenge' };
      if (!isResponse<RegistrationResponseJSON>(response)) return { kind: 'refused', reason: 'malformed' };
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verified = await verifyRegistrationResponse({ response, ...expecting(issued.challenge) });
      } catch (err) {
        return { kind: 'refused', reason: 'not_verified', detail: (err as Error).message };
      }
      if (!verified.verified) return { kind: 'refused', reason: 'not_verified' };
      const { credential, credentialDeviceType } = verified.registrationInfo;
      const passkey: NewPasskey = {
        id: credential.id,
        accountId: account.id,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: (credential.transports ?? response.response.transports ?? []) as string[],
        deviceType: credentialDeviceType,
      };
      const createdAt = new Date().toISOString();
      if (!(await passkeys.insert(passkeyRow(passkey, createdAt))))
        return { kind: 'refused', reason: 'duplicate' };
      return { kind: 'ok', passkey: { ...passkey, createdAt, lastUsedAt: null, name: null } };
    },

    async signInOptions(key, accountId) {
      const allowed = accountId ? await list(accountId) : [];
      const options = await generateAuthenticationOptions({
        rpID,
        userVerification: 'required',
        timeout: SIGN_IN_TTL_SECONDS * 1000,
        allowCredentials: allowed.map((p) => ({ id: p.id, transports: p.transports as Transport[] })),
      });
      await putChallenge(key, options.challenge, accountId ?? null, SIGN_IN_TTL_SECONDS);
      return options;
    },

    async has(accountId) {
      return (await passkeys.ofAccount(accountId)).length > 0;
    },

    async signIn(key, response) {
      // Spent first, whatever follows: an answer gets one try at its challenge.
      const issued = await takeChallenge(key);
      if (!issued) return { kind: 'refused', reason: 'no_challenge' };
      if (!isResponse<AuthenticationResponseJSON>(response)) return { kind: 'refused', reason: 'malformed' };
      const found = await passkeys.byId(response.id);
      if (!found) return { kind: 'refused', reason: 'unknown_credential' };
      const passkey = toPasskey(found);
      // Issued for one account (the second step after its password): another's passkey does not answer it.
      if (issued.accountId && issued.accountId !== passkey.accountId) {
        return { kind: 'refused', reason: 'unknown_credential', detail: 'another account’s passkey' };
      }
      const handle = response.response.userHandle;
      if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.accountId) {
        return { kind: 'refused', reason: 'not_verified', detail: 'user handle does not match' };
      }
      let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
      try {
        verified = await verifyAuthenticationResponse({
          response,
          ...expecting(issued.challenge),
          credential: {
            id: passkey.id,
            publicKey: passkey.publicKey,
            counter: passkey.counter,
            transports: passkey.transports as Transport[],
          },
        });
      } catch (err) {
        const detail = (err as Error).message;
        return { kind: 'refused', reason: /counter/i.test(detail) ? 'counter' : 'not_verified', detail };
      }
      if (!verified.verified) return { kind: 'refused', reason: 'not_verified' };
      const { newCounter } = verified.authenticationInfo;
      if (!(await passkeys.used(passkey.id, passkey.counter, newCounter, new Date().toISOString()))) {
        return { kind: 'refused', reason: 'counter' };
      }
      return { kind: 'ok', accountId: passkey.accountId, methods: passkeyMethods(passkey), passkey };
    },

    async challengeAccount(key) {
      return (await challenges.accountOf(key, Date.now())) ?? undefined;
    },
    list,
    rename: (accountId, id, name) => passkeys.rename(accountId, id, name),
    remove: (accountId, id) => passkeys.delete(accountId, id),
    removeAll: (accountId) => passkeys.deleteAll(accountId),
    sweep: () => challenges.deleteExpired(Date.now()),
  };
}
