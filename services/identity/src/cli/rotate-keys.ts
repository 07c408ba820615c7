/**
 * `node services/identity/src/cli/rotate-keys.ts` adds a new signing key in front of the
 * key file and drops keys superseded for longer than the longest token lifetime.
 * Restart the identity service (every replica) afterwards: the new key signs from then
 * on, and the old ones stay in the JWKS so tokens they signed keep verifying.
 */
import { loadConfig } from '@portico/config';
import { ConfigSchema } from '../config.ts';
import { rotateKeys } from '../oidc/keys.ts';

const config = loadConfig('identity', ConfigSchema, { file: process.env.IDENTITY_CONFIG_FILE });
// Longest-lived token a key may have signed, plus the verifiers' clock tolerance.
const retainSeconds = Math.max(config.api.accessTokenTtlSeconds, config.ttl.idTokenSeconds) + 60;
const result = await rotateKeys(config.keysFile, { retainSeconds });
console.log(
  `added ${result.added}; kept ${result.kept.join(', ')}; removed ${result.removed.join(', ') || 'none'}`,
);
console.log('Restart the identity service to sign with the new key.');
