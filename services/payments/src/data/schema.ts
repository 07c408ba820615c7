/** Row types of the payments service's own tables (see migrations/). */

export type IntentStatus =
  | 'requires_confirmation'
  | 'requires_payment_method'
  | 'processing'
  | 'succeeded'
  | 'refunded';
export type OrderSyncState = 'not_needed' | 'pending' | 'done' | 'rejected';

export interface PaymentIntentsTable {
  id: string;
  order_id: string;
  user_id: string;
  amount_minor: number;
  currency: string;
  status: IntentStatus;
  paying_order_id: string | null;
  processing_until: string | null;
  charge_attempt: number;
  charge_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  order_sync: OrderSyncState;
  order_sync_attempts: number;
  order_sync_next_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface IdempotencyKeysTable {
  principal: string;
  key: string;
  request_hash: string;
  state: 'processing' | 'completed';
  locked_until: string;
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  created_at: string;
}

export interface LeasesTable {
  name: string;
  holder: string;
  /** Epoch milliseconds on the database's clock. */
  expires_at: number;
}

export interface PaymentsDatabase {
  payment_intents: PaymentIntentsTable;
  idempotency_keys: IdempotencyKeysTable;
  leases: LeasesTable;
}
