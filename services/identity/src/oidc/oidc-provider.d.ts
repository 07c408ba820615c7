/**
 * The slice of oidc-provider's API that Portico uses (the package ships no types).
 * Kept small on purpose: configuration objects are passed through as the library
 * documents them, and only what our code reads back is typed.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: unknown;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export type AdapterConstructor = new (name: string) => Adapter;

  export interface ClientInstance {
    clientId: string;
    clientName?: string;
    scope?: string;
    grantTypeAllowed(type: string): boolean;
  }

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: unknown, rejected: string[]): Promise<AccountClaims>;
  }

  export interface TokenLike {
    kind: string;
    accountId?: string;
    clientId?: string;
    scope?: string;
    grantId?: string;
    remainingTTL?: number;
  }

  export interface OidcContext {
    params?: Record<string, unknown>;
    client?: ClientInstance;
    route?: string;
    entities: Record<string, unknown>;
  }

  export interface KoaContextWithOIDC {
    oidc: OidcContext;
    method: string;
    path: string;
    ip: string;
    host: string;
    type: string;
    body: unknown;
    status: number;
    req: IncomingMessage;
    res: ServerResponse;
    /** The status's reason phrase (Koa's `ctx.message`). */
    message: string;
    headerSent: boolean;
    /** The provider (a Koa app) handling the request. */
    app: { emit(event: string, ...args: unknown[]): boolean };
    set(name: string, value: string): void;
  }

  export interface Prompt {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [key: string]: unknown;
    };
  }

  export interface InteractionDetails {
    uid: string;
    prompt: Prompt;
    params: Record<string, string | undefined>;
    session?: { accountId: string; uid: string; cookie: string };
    grantId?: string;
    lastSubmission?: Record<string, unknown>;
    /** Seconds since the epoch. */
    exp: number;
    result?: Record<string, unknown>;
    save(ttl: number): Promise<string>;
  }

  export interface GrantInstance {
    accountId: string;
    clientId: string;
    /** Granted API scopes by resource indicator. */
    resources?: Record<string, string>;
    getOIDCScope(): string;
    getResourceScope(resource: string): string;
    addOIDCScope(scope: string): void;
    rejectOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    rejectResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export interface GrantModel {
    new (properties: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
    readonly adapter: Adapter;
  }

  export interface InteractionResult {
    login?: { accountId: string; amr?: string[]; acr?: string; remember?: boolean };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export type Configuration = Record<string, unknown>;

  export namespace interactionPolicy {
    class Check {
      static readonly REQUEST_PROMPT: true;
      static readonly NO_NEED_TO_PROMPT: false;
      constructor(
        reason: string,
        description: string,
        error: string,
        check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>,
      );
    }
    interface PromptPolicy {
      name: string;
      checks: Check[];
    }
    function base(): PromptPolicy[] & { get(name: string): PromptPolicy | undefined };
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    Grant: GrantModel;
    Session: {
      readonly adapter: Adapter;
      /** The browser's session from its signed cookie; a new, empty one when it has none. */
      get(ctx: { req: IncomingMessage; res: ServerResponse }): Promise<{
        jti: string;
        accountId?: string;
        authorizations?: Record<string, { grantId?: string }>;
      }>;
    };
    Client: {
      find(id: string): Promise<ClientInstance | undefined>;
      /** Throws InvalidClientMetadata (with `error_description`) for metadata the provider would refuse. */
      validate(metadata: Record<string, unknown>): Promise<void>;
    };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: never[]) => void): this;
    /** Koa's middleware stack: what `use` added, then the provider's router dispatch, last. */
    readonly middleware: readonly unknown[];
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
  }

  type OidcError = new (
    description?: string,
  ) => Error & { status: number; error: string; error_description?: string };

  export const errors: {
    InvalidGrant: OidcError;
    InvalidTarget: OidcError;
    OIDCProviderError: new (
      ...args: unknown[]
    ) => Error & { status: number; error: string; error_description?: string };
    SessionNotFound: new (
      ...args: unknown[]
    ) => Error & { status: number; error: string; error_description?: string };
  };
}
