/**
 * SQL spans for SQLite. PostgreSQL's queries get theirs from @opentelemetry/instrumentation-pg;
 * nothing instruments `node:sqlite`, so the embedded default's traces would stop at the service.
 * This wraps the dialect's connection, through which every query, transaction statement and
 * migration passes, with one CLIENT span per statement after the database semantic conventions
 * (`SELECT products`, `db.system.name`, `db.query.text`, `db.operation.name`, `db.collection.name`).
 *
 * Only when the process traces (decided when the database opens: a service opens its database
 * after `startTelemetry`), and like pg's instrumentation only under a span already active (a
 * request), so start-up migrations make no traces of their own. With tracing off the dialect is
 * returned as it came: no cost on the query path.
 *
 * The query text is Kysely's compiled SQL, whose values travel as bound parameters (`?`);
 * Portico uses neither `sql.lit` nor `sql.raw`, which would put values in the text.
 */
import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
} from '@opentelemetry/semantic-conventions';
import { tracingOn } from '@portico/telemetry';
import type { CompiledQuery, DatabaseConnection, Dialect, OperationNode, QueryResult } from 'kysely';

/** Incubating in the conventions (not in the stable export): rows a SELECT returned. */
const ATTR_DB_RESPONSE_RETURNED_ROWS = 'db.response.returned_rows';

export function traceSqliteQueries(dialect: Dialect): Dialect {
  if (!tracingOn()) return dialect;
  const tracer = trace.getTracer('@portico/store');
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver() {
      const driver = dialect.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      // Kysely's SQLite driver hands out one connection; it is wrapped once.
      const wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();
      driver.acquireConnection = async () => {
        const connection = await acquire();
        let traced = wrapped.get(connection);
        if (!traced) {
          traced = tracedConnection(connection, tracer);
          wrapped.set(connection, traced);
        }
        return traced;
      };
      return driver;
    },
  };
}

function tracedConnection(connection: DatabaseConnection, tracer: Tracer): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery, options?: Parameters<DatabaseConnection['executeQuery']>[1]) {
      const parent = context.active();
      if (!trace.getSpan(parent)) return connection.executeQuery<R>(query, options);
      const { operation, collection } = describe(query);
      const span = tracer.startSpan(
        // The conventions' name: `{operation} {table}`, else what is known, else the system.
        [operation, collection].filter(Boolean).join(' ') || 'sqlite',
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTR_DB_SYSTEM_NAME]: 'sqlite',
            ...(operation ? { [ATTR_DB_OPERATION_NAME]: operation } : {}),
            ...(collection ? { [ATTR_DB_COLLECTION_NAME]: collection } : {}),
            [ATTR_DB_QUERY_TEXT]: query.sql,
          },
        },
        parent,
      );
      try {
        const result: QueryResult<R> = await connection.executeQuery<R>(query, options);
        if (operation === 'SELECT') span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, result.rows.length);
        return result;
      } catch (err) {
        failed(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
    // No Portico query streams; one would pass through without a span.
    streamQuery: (query, chunkSize, options) => connection.streamQuery(query, chunkSize, options),
  };
}

/** SQLite's own error code (`SQLITE_CONSTRAINT_UNIQUE` is 2067) names the error, as pg's SQLSTATE does. */
function failed(span: Span, err: unknown): void {
  const errcode = (err as { errcode?: unknown } | null)?.errcode;
  const code = typeof errcode === 'number' ? String(errcode) : undefined;
  if (code) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, code);
  span.setAttribute(ATTR_ERROR_TYPE, code ?? (err instanceof Error ? err.name : '_OTHER'));
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * The operation and, when the statement touches one table, that table, read from Kysely's tree
 * (no parsing); a raw statement (`begin`, a migration's `create table`) is named by its first word.
 */
function describe(query: CompiledQuery): { operation?: string; collection?: string } {
  const node = query.query as OperationNode & Record<string, unknown>;
  switch (node.kind) {
    case 'SelectQueryNode':
      return { operation: 'SELECT', collection: single(node.from, node.joins) };
    case 'InsertQueryNode':
      return { operation: 'INSERT', collection: tableName(node.into) };
    case 'UpdateQueryNode':
      return { operation: 'UPDATE', collection: node.from || node.joins ? undefined : tableName(node.table) };
    case 'DeleteQueryNode':
      return { operation: 'DELETE', collection: node.using ? undefined : single(node.from, node.joins) };
    default: {
      return { operation: /^\s*([a-zA-Z]+)/.exec(query.sql)?.[1]?.toUpperCase() };
    }
  }
}

function single(from: unknown, joins: unknown): string | undefined {
  if (Array.isArray(joins) && joins.length > 0) return undefined;
  const froms = (from as { froms?: readonly unknown[] } | undefined)?.froms;
  return froms?.length === 1 ? tableName(froms[0]) : undefined;
}

function tableName(node: unknown): string | undefined {
  const n = node as { kind?: string; node?: unknown; table?: { identifier?: { name?: string } } } | undefined;
  if (n?.kind === 'AliasNode') return tableName(n.node);
  return n?.kind === 'TableNode' ? n.table?.identifier?.name : undefined;
}
