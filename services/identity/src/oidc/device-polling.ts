/**
 * How often a device may poll the token endpoint (RFC 8628 §3.2, §3.5), which oidc-provider
 * leaves to the deployment:
 * - the device authorization response says `interval` (seconds between polls);
 * - a poll that would be answered `authorization_pending` sooner than `interval` after the
 *   poll that opened the current window is answered `slow_down` instead. Both say "not yet",
 *   so nothing else changes: the code is not consumed, and an approved code is never held back.
 * Polls are counted in the attempt counter the login throttle uses (Redis or the database),
 * so every replica sees the same device. The server holds devices to `interval`, not to the
 * 5 s more §3.5 asks of the device after each `slow_down`: a device that adds them is slower
 * still, and one that does not is told `slow_down` again.
 */
import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AttemptCounter } from '../domain/attempts.ts';
import { DEVICE_CODE_GRANT } from './public-clients.ts';

interface TokenError {
  error?: string;
  error_description?: string;
}

export function devicePolling(options: { counter: AttemptCounter; intervalSeconds: number }) {
  const { counter, intervalSeconds } = options;
  return async function devicePollingMiddleware(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
    await next();
    if (ctx.method !== 'POST') return;
    const body = ctx.body as (TokenError & { device_code?: string; interval?: number }) | undefined;
    if (ctx.path === '/device/auth' && ctx.status === 200 && body?.device_code) {
      body.interval = intervalSeconds;
      return;
    }
    const params = ctx.oidc?.params as { grant_type?: string; device_code?: string } | undefined;
    if (
      ctx.path !== '/token' ||
      params?.grant_type !== DEVICE_CODE_GRANT ||
      !params.device_code ||
      body?.error !== 'authorization_pending'
    )
      return;
    // The code itself is a bearer credential: only its hash is kept.
    const key = `device-poll:${createHash('sha256').update(params.device_code).digest('base64url')}`;
    const { count } = await counter.add(key, Date.now(), intervalSeconds * 1000);
    if (count > 1)
      ctx.body = {
        error: 'slow_down',
        error_description: `poll at most every ${intervalSeconds} seconds, and 5 seconds more after each slow_down`,
      };
  };
}
