/**
 * The CLI's DPoP key (RFC 9449): an ES256 key pair kept as a private JWK in a file of its own
 * (mode 0600), made on first use. Tokens obtained with `--dpop <file>` are bound to it, and
 * `--proof` signs the proof each API request needs with it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

export interface DpopKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

const ALG = 'ES256';

export async function loadOrCreateDpopKey(file: string): Promise<DpopKeyPair> {
  if (!existsSync(file)) {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    writeFileSync(file, `${JSON.stringify({ ...(await exportJWK(privateKey)), alg: ALG })}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  }
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const { d: _d, ...publicJwk } = jwk;
  return {
    privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
    publicKey: (await importJWK({ ...publicJwk, ext: true }, ALG)) as CryptoKey,
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y },
  };
}

/**
 * A DPoP proof for one request: `htu` without query and fragment, `ath` for the token it goes
 * with, and the server's `nonce` when it asked for one (RFC 9449 §8, `DPoP-Nonce`).
 */
export async function dpopProof(
  key: DpopKeyPair,
  request: { method: string; url: string; accessToken?: string; nonce?: string },
): Promise<string> {
  const htu = new URL(request.url);
  htu.search = '';
  htu.hash = '';
  return new SignJWT({
    htm: request.method.toUpperCase(),
    htu: htu.href,
    ...(request.accessToken
      ? { ath: createHash('sha256').update(request.accessToken, 'ascii').digest('base64url') }
      : {}),
    ...(request.nonce ? { nonce: request.nonce } : {}),
  })
    .setProtectedHeader({ alg: ALG, typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt()
    .setJti(randomUUID())
    .sign(key.privateKey);
}
