/** The audit log: every admin action and every account-security event, append-only. */
import { randomUUID } from 'node:crypto';
import type { Database } from '@portico/store/sql';
import { auditLogTable } from '../data/audit.ts';
import type { AuditLogTable, IdentityDatabase } from '../data/schema.ts';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

export interface AuditService {
  record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<AuditEntry>;
  /** Newest first; `before` pages back from an entry's `at`. */
  list(options: { limit: number; target?: string; before?: string }): Promise<AuditEntry[]>;
}

export function toAuditEntry(row: AuditLogTable): AuditEntry {
  return { ...row, detail: JSON.parse(row.detail) as Record<string, unknown> };
}

export function createAuditService(database: Database<IdentityDatabase>): AuditService {
  const log = auditLogTable(database.db);
  return {
    async record(input) {
      const entry: AuditEntry = { id: randomUUID(), at: new Date().toISOString(), ...input };
      await log.insert({ ...entry, detail: JSON.stringify(entry.detail) });
      return entry;
    },
    async list(options) {
      return (await log.list(options)).map(toAuditEntry);
    },
  };
}
