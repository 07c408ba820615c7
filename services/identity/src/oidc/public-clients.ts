/**
 * What public clients such as `portico-cli` need from the provider, kept beside its main
 * configuration (provider.ts spreads these into `features`):
 * - DPoP (RFC 9449): a client that sends a `DPoP` proof to the token endpoint gets access
 *   tokens bound to its key (`cnf.jkt`); refresh tokens of a public client are bound too.
 *   A client registered with `dpop_bound_access_tokens: true` must always send one. With
 *   `dpop.requireNonce` the token endpoint also asks for a server nonce in the proof (§8): the
 *   first proof is answered 400 `use_dpop_nonce` with a `DPoP-Nonce` header, and the client
 *   sends a new proof with it (openid-client does, once), so a proof made ahead of time by
 *   someone holding the key for a moment is of no use later. Nonces are stateless (HMACs of
 *   the minute under a key derived from the cookie keys): every replica accepts any replica's.
 * - The device authorization grant (RFC 8628): `/device/auth` starts it, the user enters the
 *   code at `/device` (our pages, device-views.ts), signs in through the usual interaction,
 *   and the device polls `/token` with `urn:ietf:params:oauth:grant-type:device_code`.
 *   User codes are 8 letters from a 20-letter alphabet without vowels (`base-20`, about 34
 *   bits), shown as `XXXX-XXXX`; a code that is wrong, used or expired is said so plainly.
 */
import { hkdfSync } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { codeConfirmPage, codeInputPage, deviceSuccessPage } from '../api/device-views.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** How long a device has to get its user signed in (RFC 8628 `expires_in`). */
export const DEVICE_CODE_TTL_SECONDS = 600;

/** Paths the device flow adds to the provider's own. */
export const DEVICE_PATHS = ['/device'];

const INPUT_ERRORS: Record<string, string> = {
  NoCodeError: 'Enter the code your device shows.',
  NotFoundError: 'That code is not right. Check it and try again.',
  ExpiredError: 'That code has expired. Start again on your device.',
  AlreadyUsedError: 'That code was already used. Start again on your device.',
  AbortedError: 'Cancelled: your device was not connected.',
};

function render(ctx: KoaContextWithOIDC, body: string): void {
  ctx.type = 'html';
  ctx.body = body;
}

export interface DpopSettings {
  requireNonce: boolean;
}

export function publicClientFeatures(
  dpop: DpopSettings,
  cookieKeys: readonly string[],
): Record<string, unknown> {
  // 32 bytes oidc-provider turns into a nonce per minute; the same for every replica with this key file.
  const nonceSecret = Buffer.from(hkdfSync('sha256', cookieKeys[0]!, '', 'portico dpop nonce', 32));
  return {
    dPoP: {
      enabled: true,
      ...(dpop.requireNonce
        ? { nonceSecret, requireNonce: (ctx: KoaContextWithOIDC) => ctx.oidc.route === 'token' }
        : {}),
    },
    deviceFlow: {
      enabled: true,
      charset: 'base-20',
      mask: '****-****',
      userCodeInputSource: async (ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: Error) => {
        const error = err ? (INPUT_ERRORS[err.name] ?? 'Something went wrong. Try again.') : undefined;
        render(ctx, codeInputPage({ form, ...(error ? { error } : {}) }));
      },
      userCodeConfirmSource: async (
        ctx: KoaContextWithOIDC,
        form: string,
        client: { clientName?: string; clientId: string },
        _deviceInfo: unknown,
        userCode: string,
      ) => {
        render(ctx, codeConfirmPage({ form, clientName: client.clientName ?? client.clientId, userCode }));
      },
      successSource: async (ctx: KoaContextWithOIDC) => {
        render(ctx, deviceSuccessPage(ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId));
      },
    },
  };
}
