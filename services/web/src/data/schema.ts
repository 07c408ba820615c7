/** The web service's tables as Kysely sees them (see migrations/index.ts). */
export interface SessionsTable {
  /** Derived from the cookie's id (HKDF), never the id itself. */
  id: string;
  /** The session's data, sealed (AES-256-GCM). */
  data: string;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

export interface WebDatabase {
  sessions: SessionsTable;
}
