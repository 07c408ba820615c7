/**
 * The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, the parameters every
 * authenticator app supports) and single-use recovery codes.
 * - Enrolment makes the seed here; it is shown once (QR code and text) and then only kept
 *   sealed. It guards sign-in once a first code confirms it; then 10 recovery codes are made
 *   and shown once.
 * - A code is accepted from one step before to one step after now (clock drift), and only
 *   for a later step than the last one accepted: a code seen over a shoulder or replayed
 *   from a log is refused.
 * - Every code attempt is counted by the login throttle like a password attempt, so a
 *   stolen password does not buy unlimited code guesses.
 * - Recovery codes exist only beside a confirmed authenticator: confirming one, or replacing
 *   them, writes the codes in the same transaction as it checks the authenticator.
 */
import { randomInt } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { recoveryCodesTable } from '../data/recovery-codes.ts';
import type { IdentityDatabase, TotpAuthenticatorsTable } from '../data/schema.ts';
import { totpAuthenticatorsTable } from '../data/totp-authenticators.ts';
import type { Account } from './accounts.ts';
import type { SecretSealer } from './sealed-secrets.ts';
import type { Throttle } from './throttle.ts';

/** RFC 8176 authentication method references. */
export const AMR = {
  password: 'pwd',
  otp: 'otp',
  mfa: 'mfa',
  /** Proof of possession of a hardware-secured key (a device-bound passkey). */
  hardwareKey: 'hwk',
  /** Proof of possession of a software-secured key (a synced passkey). */
  softwareKey: 'swk',
  /** A user presence test (WebAuthn's verification, which also asks for a PIN or biometric). */
  userPresence: 'user',
} as const;

export const RECOVERY_CODES = 10;
const PERIOD = 30;
// No 0/o, 1/l/i: the codes are read off paper.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 12;

export interface TotpAuthenticator {
  sealedSecret: string;
  /** Whether a first code confirmed it: only then does it guard sign-in. */
  confirmed: boolean;
  /** The last time step a code was accepted for. */
  lastStep: number;
}

export function toTotpAuthenticator(row: TotpAuthenticatorsTable): TotpAuthenticator {
  return {
    sealedSecret: row.secret_sealed,
    confirmed: row.confirmed_at !== null,
    lastStep: Number(row.last_step),
  };
}

export interface Enrolment {
  /** Base32, for typing into an app that cannot scan. */
  secret: string;
  /** The otpauth:// key URI the QR code holds. */
  uri: string;
  /** The QR code as an SVG element (inline: the pages' CSP loads no images). */
  qrSvg: string;
}

export type CodeOutcome =
  | { kind: 'ok'; method: 'totp' | 'recovery'; recoveryCodesLeft?: number }
  | { kind: 'invalid' }
  | { kind: 'throttled'; retryAfter: number };

export interface SecondFactorService {
  /** Whether a confirmed authenticator guards this account's sign-in. */
  enrolled(accountId: string): Promise<boolean>;
  /** A new pending authenticator; undefined when a confirmed one exists. */
  begin(account: Account): Promise<Enrolment | undefined>;
  /** Confirms the pending authenticator with its first code: the recovery codes, else the outcome. */
  confirm(account: Account, code: string, ip: string): Promise<{ recoveryCodes: string[] } | CodeOutcome>;
  /**
   * Checks a TOTP code or a recovery code at sign-in (each spent once), after the password:
   * success gives the IP back both attempts and clears the account's count.
   */
  verify(account: Account, code: string, ip: string): Promise<CodeOutcome>;
  recoveryCodesLeft(accountId: string): Promise<number>;
  /** 10 new recovery codes in place of all the earlier ones; undefined without a confirmed authenticator. */
  newRecoveryCodes(accountId: string): Promise<string[] | undefined>;
  /** Removes the authenticator and recovery codes; whether one was confirmed. */
  reset(accountId: string): Promise<boolean>;
}

export interface SecondFactorDeps {
  sealer: SecretSealer;
  throttle: Throttle;
  /** The issuer shown in authenticator apps. */
  issuer: string;
  now?: () => number;
}

/** Digits only, without the spaces apps show in the middle. */
const TOTP_INPUT = /^\d{6}$/;
const normalise = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');

export function createSecondFactorService(
  database: Database<IdentityDatabase>,
  deps: SecondFactorDeps,
): SecondFactorService {
  const { db } = database;
  const { sealer, throttle } = deps;
  const now = deps.now ?? Date.now;
  const authenticators = totpAuthenticatorsTable(db);
  const codes = recoveryCodesTable(db);

  async function authenticator(accountId: string) {
    const row = await authenticators.byAccount(accountId);
    return row ? toTotpAuthenticator(row) : undefined;
  }

  const totpFor = (account: Account, secret: Secret | string) =>
    new TOTP({
      issuer: deps.issuer,
      label: account.username,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD,
      secret: typeof secret === 'string' ? Secret.fromBase32(secret) : secret,
    });

  /** The time step the code belongs to (now ± 1), or undefined. */
  async function stepOf(account: Account, sealed: string, code: string): Promise<number | undefined> {
    if (!TOTP_INPUT.test(code)) return undefined;
    const secret = sealer.open(sealed);
    if (!secret) return undefined;
    const timestamp = now();
    const delta = totpFor(account, secret).validate({ token: code, timestamp, window: 1 });
    return delta === null ? undefined : TOTP.counter({ period: PERIOD, timestamp }) + delta;
  }

  function newRecoveryCode(): string {
    let code = '';
    for (let i = 0; i < RECOVERY_LENGTH; i++) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
    return code.replace(/(.{4})(?!$)/g, '$1-');
  }

  /** New codes, and what is kept of them. */
  function freshRecoveryCodes() {
    const recoveryCodes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    return { recoveryCodes, hashes: recoveryCodes.map((c) => sealer.macs(normalise(c))[0]!) };
  }

  return {
    async enrolled(accountId) {
      return (await authenticator(accountId))?.confirmed ?? false;
    },

    async begin(account) {
      const secret = new Secret({ size: 20 });
      const sealed = sealer.seal(secret.base32);
      await authenticators.putUnconfirmed({
        account_id: account.id,
        secret_sealed: sealed,
        created_at: new Date().toISOString(),
        confirmed_at: null,
        last_step: 0,
      });
      // A confirmed authenticator stays as it was: this seed was not kept.
      const kept = await authenticators.byAccount(account.id);
      if (kept?.confirmed_at !== null || kept.secret_sealed !== sealed) return undefined;
      const uri = totpFor(account, secret).toString();
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret: secret.base32, uri, qrSvg };
    },

    async confirm(account, code, ip) {
      const retryAfter = await throttle.attempt(account.username, ip);
      if (retryAfter > 0) return { kind: 'throttled', retryAfter };
      const pending = await authenticator(account.id);
      if (!pending || pending.confirmed) return { kind: 'invalid' };
      const step = await stepOf(account, pending.sealedSecret, normalise(code));
      if (step === undefined) return { kind: 'invalid' };
      const { recoveryCodes, hashes } = freshRecoveryCodes();
      const confirmed = await db.transaction().execute(async (trx) => {
        if (!(await totpAuthenticatorsTable(trx).confirm(account.id, new Date().toISOString(), step)))
          return false;
        await recoveryCodesTable(trx).replace(account.id, hashes);
        return true;
      });
      if (!confirmed) return { kind: 'invalid' };
      await throttle.succeed(account.username, ip);
      return { recoveryCodes };
    },

    async verify(account, input, ip) {
      const retryAfter = await throttle.attempt(account.username, ip);
      if (retryAfter > 0) return { kind: 'throttled', retryAfter };
      const found = await authenticator(account.id);
      if (!found?.confirmed) return { kind: 'invalid' };
      const code = normalise(input);
      if (TOTP_INPUT.test(code)) {
        const step = await stepOf(account, found.sealedSecret, code);
        if (step === undefined || !(await authenticators.acceptStep(account.id, step)))
          return { kind: 'invalid' };
        await throttle.succeed(account.username, ip, 2);
        return { kind: 'ok', method: 'totp' };
      }
      if (
        code.length !== RECOVERY_LENGTH ||
        !(await codes.spend(account.id, sealer.macs(code), Date.now()))
      ) {
        return { kind: 'invalid' };
      }
      await throttle.succeed(account.username, ip, 2);
      return {
        kind: 'ok',
        method: 'recovery',
        recoveryCodesLeft: await codes.unusedCount(account.id),
      };
    },

    recoveryCodesLeft: (accountId) => codes.unusedCount(accountId),
    async newRecoveryCodes(accountId) {
      const fresh = freshRecoveryCodes();
      const replaced = await db.transaction().execute(async (trx) => {
        // Codes left behind by a concurrent turn-off open nothing: a code needs a confirmed authenticator.
        if (!(await totpAuthenticatorsTable(trx).isConfirmed(accountId))) return false;
        await recoveryCodesTable(trx).replace(accountId, fresh.hashes);
        return true;
      });
      return replaced ? fresh.recoveryCodes : undefined;
    },
    reset: (accountId) =>
      db.transaction().execute(async (trx) => {
        await recoveryCodesTable(trx).deleteAll(accountId);
        return totpAuthenticatorsTable(trx).delete(accountId);
      }),
  };
}
