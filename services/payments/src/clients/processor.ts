/**
 * The card processor behind an interface, and a fake one with the usual test cards:
 *   4242 4242 4242 4242  succeeds (so does any other Luhn-valid number)
 *   4000 0000 0000 0002  is declined (card_declined)
 *   4000 0000 0000 9995  is declined (insufficient_funds)
 *   4000 0000 0000 0119  never answers: the caller's time budget decides
 * Like a real processor it deduplicates on the caller's idempotency key: the same key
 * again answers the first outcome and charges nothing new.
 */
import { randomUUID } from 'node:crypto';

export interface Card {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export interface ChargeRequest {
  idempotencyKey: string;
  amountMinor: number;
  currency: string;
  card: Card;
}

export type ChargeResult =
  | { outcome: 'succeeded'; chargeId: string }
  | { outcome: 'declined'; code: string; message: string };

export interface CardProcessor {
  /** Rejects with the signal's reason when the signal aborts first. */
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  refund(chargeId: string, signal: AbortSignal): Promise<void>;
}

export interface FakeProcessor extends CardProcessor {
  /** Charges actually made (not replays), for tests. */
  charges: Array<{ chargeId: string; idempotencyKey: string; amountMinor: number; currency: string }>;
  refunds: string[];
}

const DECLINES: Record<string, { code: string; message: string }> = {
  '4000000000000002': { code: 'card_declined', message: 'The card was declined' },
  '4000000000009995': { code: 'insufficient_funds', message: 'The card has insufficient funds' },
};
export const TIMEOUT_CARD = '4000000000000119';

export function createFakeProcessor(): FakeProcessor {
  const outcomes = new Map<string, ChargeResult>();
  const charges: FakeProcessor['charges'] = [];
  const refunds: string[] = [];
  return {
    charges,
    refunds,
    async charge(request, signal) {
      signal.throwIfAborted();
      const seen = outcomes.get(request.idempotencyKey);
      if (seen) return seen;
      if (request.card.number === TIMEOUT_CARD) {
        return new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      const decline = DECLINES[request.card.number];
      const result: ChargeResult = decline
        ? { outcome: 'declined', ...decline }
        : { outcome: 'succeeded', chargeId: `ch_${randomUUID()}` };
      outcomes.set(request.idempotencyKey, result);
      if (result.outcome === 'succeeded') {
        charges.push({
          chargeId: result.chargeId,
          idempotencyKey: request.idempotencyKey,
          amountMinor: request.amountMinor,
          currency: request.currency,
        });
      }
      return result;
    },
    async refund(chargeId, signal) {
      signal.throwIfAborted();
      if (!refunds.includes(chargeId)) refunds.push(chargeId);
    },
  };
}
