/** The audit log: every admin action and every account-security event, append-only. */
import { randomUUID } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import type { IdentityDatabase } from './schema.ts';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface AuditLog {
  record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry>;
  /** Newest first; `before` pages back from an entry's `at`. */
  list(options: { limit: number; target?: string; before?: string }): Promise<AuditEntry[]>;
}

export function auditLog(database: Database<IdentityDatabase>): AuditLog {
  const { db } = database;
  return {
    async record(input) {
      const entry: AuditEntry = { id: randomUUID(), at: new Date().toISOString(), ...input };
      await db
        .insertInto('audit_log')
        .values({ ...entry, detail: JSON.stringify(entry.detail) })
        .execute();
      return entry;
    },
    async list({ limit, target, before }) {
      let query = db.selectFrom('audit_log').selectAll();
      if (target) query = query.where('target', '=', target);
      if (before) query = query.where('at', '<', before);
      const rows = await query.orderBy('at', 'desc').orderBy('id').limit(limit).execute();
      return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as Record<string, unknown> }));
    },
  };
}
