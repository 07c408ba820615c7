// @ts-check
/**
 * Types only: what the admin views use of the console (app.js hands them `kit`), and the
 * shapes of identity's admin API answers they show (services/identity/src/admin/routes.ts).
 */

/**
 * @typedef {Error & { status: number, problem: { code?: string, detail?: string }, traceId?: string }} ApiProblem
 *
 * @typedef {object} Kit
 * @property {<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, unknown>, ...children: unknown[]) => HTMLElementTagNameMap[K]} h
 * @property {(title: string, ...children: unknown[]) => void} render
 * @property {(message: string, kind?: string) => void} flash
 * @property {(err: unknown) => void} flashError
 * @property {(err: unknown) => string} describe
 * @property {(method: string, path: string, options?: { body?: unknown }) => Promise<{ data: any }>} api
 * @property {new (status: number, problem: unknown) => ApiProblem} ApiError
 * @property {(value: string | null | undefined) => string} dateTime
 * @property {(to: string) => Promise<void>} navigate
 * @property {() => boolean} isAdmin
 *
 * @typedef {object} User
 * @property {string} id
 * @property {string} username
 * @property {string} name
 * @property {string | null} email
 * @property {boolean} email_verified
 * @property {string[]} roles
 * @property {boolean} disabled
 *
 * @typedef {{ id: string, created_at: string, expires_at: string | null }} Session
 *
 * @typedef {object} Grant
 * @property {string} id
 * @property {string | null} client_id
 * @property {string | null} client_name
 * @property {string[]} scopes
 * @property {string} created_at
 * @property {string | null} expires_at
 *
 * @typedef {object} UserDetail
 * @property {User} data
 * @property {{ totp: boolean, recovery_codes_left: number, passkeys: number }} mfa
 * @property {Session[]} sessions
 * @property {Grant[]} grants
 *
 * @typedef {object} Client
 * @property {string} client_id
 * @property {string | null} client_name
 * @property {'confidential' | 'public'} type
 * @property {'config' | 'admin'} source
 * @property {string[]} redirect_uris
 * @property {string[]} post_logout_redirect_uris
 * @property {string} scope
 * @property {boolean} disabled
 *
 * @typedef {{ data: Client, client_secret: string | null }} WithSecret
 *
 * @typedef {object} SigningKey
 * @property {string} kid
 * @property {string} alg
 * @property {string | null} created_at
 * @property {string | null} signs_from
 * @property {'signing' | 'next' | 'verifying'} status
 * @property {boolean} published
 *
 * @typedef {object} AuditEntry
 * @property {string} at
 * @property {string} actor
 * @property {string} action
 * @property {string | null} target
 * @property {string | null} ip
 * @property {Record<string, unknown>} detail
 *
 * @typedef {{ id: string, received_at: string, to: string[], subject: string, text: string }} Message
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
