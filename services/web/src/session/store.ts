/**
 * Server-side sessions in the service's SQL database (SQLite embedded, PostgreSQL scaled out).
 * - the browser holds only a random 256-bit id; the row is keyed by a value derived from it
 *   (HKDF), and its data (tokens included) is sealed with AES-256-GCM under another key
 *   derived from it: someone who reads the table can neither open a session nor read a token
 * - expiry is sliding (idle) under an absolute cap from the moment of sign-in
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import type { WebDatabase } from '../data/schema.ts';

export interface PendingLogin {
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: number;
}

export interface SessionUser {
  sub: string;
  name?: string;
  username?: string;
  email?: string;
  roles: string[];
  /** How the user signed in (the ID token's RFC 8176 `amr`: `pwd`, `otp`, `mfa`). */
  amr?: string[];
}

export interface SessionTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope?: string;
}

export interface SessionData {
  csrf: string;
  /** Sign-ins started in this browser and not finished yet, by `state`. */
  logins?: Record<string, PendingLogin>;
  user?: SessionUser;
  tokens?: SessionTokens;
}

export interface Session {
  /** The cookie value. */
  id: string;
  data: SessionData;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
}

const ID = /^[A-Za-z0-9_-]{43}$/;

function keys(id: string) {
  const secret = Buffer.from(id, 'base64url');
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return {
    lookup: derive('portico-web session lookup').toString('hex'),
    seal: derive('portico-web session data'),
  };
}

function seal(key: Buffer, aad: string, data: SessionData): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function open(key: Buffer, aad: string, sealed: string): SessionData | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as SessionData;
  } catch {
    return undefined;
  }
}

export interface SessionStore {
  create(data: SessionData, expiresAt: number): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  save(session: Session): Promise<void>;
  /** Moves the expiry only: never writes data, so it cannot undo a concurrent save. */
  touch(session: Session): Promise<void>;
  destroy(id: string): Promise<void>;
  /** Deletes expired rows; returns how many. */
  sweep(): Promise<number>;
  count(): Promise<number>;
}

export function sqlSessionStore(database: Database<WebDatabase>): SessionStore {
  const { db } = database;
  return {
    async create(data, expiresAt) {
      const id = randomBytes(32).toString('base64url');
      const now = Date.now();
      const { lookup, seal: key } = keys(id);
      await db
        .insertInto('sessions')
        .values({
          id: lookup,
          data: seal(key, lookup, data),
          created_at: new Date(now).toISOString(),
          updated_at: new Date(now).toISOString(),
          expires_at: new Date(expiresAt).toISOString(),
        })
        .execute();
      return { id, data, createdAt: now, updatedAt: now, expiresAt };
    },

    async get(id) {
      // Canonical encodings only: the last character's spare bits give each id four spellings.
      if (!ID.test(id) || Buffer.from(id, 'base64url').toString('base64url') !== id) return undefined;
      const { lookup, seal: key } = keys(id);
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', lookup).executeTakeFirst();
      if (!row) return undefined;
      const expiresAt = Date.parse(row.expires_at);
      if (expiresAt <= Date.now()) return undefined;
      const data = open(key, lookup, row.data);
      if (!data) return undefined;
      return {
        id,
        data,
        createdAt: Date.parse(row.created_at),
        updatedAt: Date.parse(row.updated_at),
        expiresAt,
      };
    },

    async save(session) {
      const { lookup, seal: key } = keys(session.id);
      session.updatedAt = Date.now();
      await db
        .updateTable('sessions')
        .set({
          data: seal(key, lookup, session.data),
          updated_at: new Date(session.updatedAt).toISOString(),
          expires_at: new Date(session.expiresAt).toISOString(),
        })
        .where('id', '=', lookup)
        .execute();
    },

    async touch(session) {
      session.updatedAt = Date.now();
      await db
        .updateTable('sessions')
        .set({
          updated_at: new Date(session.updatedAt).toISOString(),
          expires_at: new Date(session.expiresAt).toISOString(),
        })
        .where('id', '=', keys(session.id).lookup)
        .execute();
    },

    async destroy(id) {
      if (!ID.test(id)) return;
      await db.deleteFrom('sessions').where('id', '=', keys(id).lookup).execute();
    },

    async sweep() {
      const result = await db
        .deleteFrom('sessions')
        .where('expires_at', '<=', new Date().toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async count() {
      const row = await db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
