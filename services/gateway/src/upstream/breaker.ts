/**
 * A circuit breaker per upstream instance, which is also its passive health check:
 * - closed: requests flow; `failures` consecutive failures open it;
 * - open: no request is sent (the gateway answers 503 at once) for `cooldownMs`;
 * - half-open: one probe request goes through; success closes, failure re-opens.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface Breaker {
  readonly state: BreakerState;
  /** True when a request may be sent now; in half-open, true once for the probe. */
  tryAcquire(): boolean;
  /** Whether `tryAcquire` would say yes, without taking the probe slot. */
  available(): boolean;
  success(): void;
  failure(): void;
  /** Opens now, whatever the count (an instance found stalled). */
  trip(): void;
  reset(): void;
}

export function createBreaker(options: {
  failures: number;
  cooldownMs: number;
  onChange?: (state: BreakerState) => void;
}): Breaker {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const set = (next: BreakerState) => {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  };
  const open = () => {
    openedAt = Date.now();
    probing = false;
    set('open');
  };
  return {
    get state() {
      return state;
    },
    available() {
      if (state === 'closed') return true;
      if (state === 'open') return Date.now() - openedAt >= options.cooldownMs;
      return !probing;
    },
    tryAcquire() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (Date.now() - openedAt < options.cooldownMs) return false;
        set('half-open');
      }
      if (probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      probing = false;
      set('closed');
    },
    failure() {
      failures++;
      if (state === 'half-open' || failures >= options.failures) open();
    },
    trip() {
      failures = 0;
      open();
    },
    reset() {
      failures = 0;
      probing = false;
      set('closed');
    },
  };
}
