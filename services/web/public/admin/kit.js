// @ts-check
/**
 * Types only: what the admin views use of the console (router.js hands them `kit`), and the
 * shapes of the answers they show.
 */
/** @import { Api } from '../api/client.js' */
/** @import { MethodResponse } from '../vendor/openapi-fetch.js' */

/**
 * @typedef {Error & { status: number, problem: { code?: string, detail?: string }, retryAfter?: string | null, traceId?: string }} ApiProblem
 *
 * @typedef {object} Kit
 * @property {<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, unknown>, ...children: unknown[]) => HTMLElementTagNameMap[K]} h
 * @property {(attrs: Record<string, unknown>, onSubmit: (fields: FormData) => unknown, ...children: unknown[]) => HTMLFormElement} handledForm a form whose submit hands its fields to `onSubmit` (lib/dom.js)
 * @property {(title: string, ...children: unknown[]) => void} render
 * @property {(headings: unknown[], rows: unknown[], attrs?: Record<string, unknown> & { caption?: string }) => HTMLTableElement} table
 * @property {(message: string, kind?: string) => void} flash
 * @property {(err: unknown) => void} flashError
 * @property {(err: unknown) => string} describe
 * @property {(method: string, path: string, options?: { body?: unknown }) => Promise<{ data: any }>} api the console's own routes (`/api/console/*`)
 * @property {Api} gateway the typed client for the gateway's API, with the session's CSRF token (lib/gateway.js)
 * @property {new (status: number, problem: unknown) => ApiProblem} ApiError
 * @property {(value: string | null | undefined) => string} dateTime
 * @property {(to: string) => Promise<void>} navigate
 * @property {() => boolean} isAdmin
 *
 * The identity admin API's answers, as the gateway's published contract has them
 * (../api/schema.generated.d.ts): a field renamed or removed there fails tsc where a view reads it.
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/users'>['data'][number]} User
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/users/{id}'>} UserDetail
 * @typedef {UserDetail['sessions'][number]} Session
 * @typedef {UserDetail['grants'][number]} Grant
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/clients'>['data'][number]} Client
 * @typedef {MethodResponse<Api, 'post', '/api/v1/identity/clients'>} WithSecret
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/keys'>['data'][number]} SigningKey
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/audit'>['data'][number]} AuditEntry
 * @typedef {MethodResponse<Api, 'get', '/api/v1/identity/mailbox'>['data'][number]} Message
 *
 * The console's Requests page (services/web/src/traces/requests.ts, @portico/telemetry's spans).
 * @typedef {object} RequestRow
 * @property {string} trace_id
 * @property {string} start
 * @property {string} method
 * @property {string} path
 * @property {string} route
 * @property {number | null} status
 * @property {string | null} user
 * @property {number} duration_ms
 * @property {number} spans
 * @property {boolean} error
 *
 * @typedef {object} TraceSpan
 * @property {string} trace_id
 * @property {string} span_id
 * @property {string} [parent_span_id]
 * @property {string} name
 * @property {'internal' | 'server' | 'client' | 'producer' | 'consumer'} kind
 * @property {string} service
 * @property {string} start
 * @property {number} duration_ms
 * @property {'unset' | 'ok' | 'error'} status
 * @property {Record<string, unknown>} attributes
 */

export {};
