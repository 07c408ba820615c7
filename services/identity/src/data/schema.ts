/** Row types of the identity service's tables (see migrations/index.ts). */
export interface OidcModelRow {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface AccountRow {
  id: string;
  username: string;
  password_hash: string;
  /** JSON array of role names. */
  roles: string;
  name: string;
  email: string | null;
  created_at: string;
  updated_at: string;
}

/** Login attempts per account or IP in the current window (data/attempts.ts). */
export interface LoginAttemptRow {
  attempt_key: string;
  count: number;
  /** When the window closes, ms since the epoch. */
  reset_at: number;
}

export interface IdentityDatabase {
  oidc_models: OidcModelRow;
  accounts: AccountRow;
  login_attempts: LoginAttemptRow;
}
