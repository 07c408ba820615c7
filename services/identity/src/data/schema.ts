/** The identity service's tables as Kysely sees them (<Things>Table, snake_case as in SQL; see migrations/index.ts). */
export interface OidcModelsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface AccountsTable {
  id: string;
  username: string;
  password_hash: string;
  /** JSON array of role names. */
  roles: string;
  name: string;
  email: string | null;
  created_at: string;
  updated_at: string;
  /** When the owner proved the email address (null: not yet, or no address). */
  email_verified_at: string | null;
  /** When an admin disabled the account (null: enabled). */
  disabled_at: string | null;
}

/** Single-use links mailed to a user; only the SHA-256 of the secret is kept. */
export interface AccountTokensTable {
  token_hash: string;
  account_id: string;
  purpose: 'verify-email' | 'reset-password' | 'enrol-totp' | 'manage-security' | 'change-password';
  /** Milliseconds since the epoch. */
  expires_at: number;
  used_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  /** The acting account's `sub` (or `self` for a user acting on their own account). */
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  /** JSON object with what changed. */
  detail: string;
}

/** An index of one account's sessions and grants (the artefacts live in the OIDC store). */
export interface AccountArtefactsTable {
  kind: 'session' | 'grant';
  id: string;
  account_id: string;
  client_id: string | null;
  /** Seconds since the epoch. */
  created_at: number;
  expires_at: number | null;
}

/** Login attempts per account or IP in the current window (domain/attempts.ts). */
export interface LoginAttemptsTable {
  attempt_key: string;
  count: number;
  /** When the window closes, ms since the epoch. */
  reset_at: number;
}

/** An account's TOTP authenticator (RFC 6238); the secret only sealed. */
export interface TotpAuthenticatorsTable {
  account_id: string;
  secret_sealed: string;
  created_at: string;
  confirmed_at: string | null;
  last_step: number;
}

/** Single-use recovery codes; only an HMAC of each is kept. */
export interface RecoveryCodesTable {
  code_hash: string;
  account_id: string;
  /** Milliseconds since the epoch. */
  used_at: number | null;
}

/** A WebAuthn credential (passkey) of an account. */
export interface PasskeysTable {
  id: string;
  account_id: string;
  public_key: string;
  counter: number;
  /** JSON array. */
  transports: string;
  device_type: string;
  created_at: string;
  last_used_at: string | null;
  /** The owner's name for it; null: unnamed. */
  name: string | null;
}

/** A WebAuthn challenge handed to a browser, spent by the answer to it. */
export interface WebauthnChallengesTable {
  challenge_key: string;
  challenge: string;
  account_id: string | null;
  /** Milliseconds since the epoch. */
  expires_at: number;
}

/** A client made from the admin API; the provider reads it through oidc/client-adapter.ts. */
export interface OidcClientsTable {
  client_id: string;
  /** JSON: oidc-provider client metadata, without the secret. */
  metadata: string;
  secret_sealed: string | null;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

export interface IdentityDatabase {
  oidc_models: OidcModelsTable;
  accounts: AccountsTable;
  login_attempts: LoginAttemptsTable;
  account_tokens: AccountTokensTable;
  audit_log: AuditLogTable;
  account_artefacts: AccountArtefactsTable;
  totp_authenticators: TotpAuthenticatorsTable;
  recovery_codes: RecoveryCodesTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  oidc_clients: OidcClientsTable;
}
