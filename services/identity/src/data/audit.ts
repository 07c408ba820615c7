/** The audit log, append-only: queries only; the entries' shape is in domain/audit.ts. */
import type { Executor } from '@portico/store/sql';
import type { AuditLogTable, IdentityDatabase } from './schema.ts';

export function auditLogTable(db: Executor<IdentityDatabase>) {
  return {
    async insert(row: AuditLogTable): Promise<void> {
      await db.insertInto('audit_log').values(row).execute();
    },
    /** Newest first; `before` pages back from an entry's `at`. */
    async list(options: { limit: number; target?: string; before?: string }): Promise<AuditLogTable[]> {
      let query = db.selectFrom('audit_log').selectAll();
      if (options.target) query = query.where('target', '=', options.target);
      if (options.before) query = query.where('at', '<', options.before);
      return query.orderBy('at', 'desc').orderBy('id').limit(options.limit).execute();
    },
  };
}
