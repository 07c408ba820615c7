/**
 * `node services/identity/src/cli/rotate-keys.ts` creates the key file when there is none, else
 * adds a new signing key in front of the key file and drops keys superseded for longer than the longest token lifetime.
 * No restart: every replica reading the file publishes the new key within
 * `keyRotation.reloadSeconds` and signs with it from its `signs_from`
 * (`keyRotation.activationDelaySeconds` on); the old ones stay in the JWKS so tokens they signed
 * keep verifying.
 */
import { existsSync } from 'node:fs';
import { loadConfig } from '@portico/config';
import { ConfigSchema } from '../config.ts';
import { keyRetainSeconds, loadKeys, rotateKeys } from '../oidc/keys.ts';

const config = loadConfig('identity', ConfigSchema, { file: process.env.IDENTITY_CONFIG_FILE });
const retainSeconds = keyRetainSeconds(config);
// No file yet: make the first one (what a first start would), so replicas can share it from the start.
if (!existsSync(config.keysFile)) {
  const { jwks } = await loadKeys(config.keysFile);
  console.log(`created ${config.keysFile} with key ${jwks.keys[0]!.kid}`);
  process.exit(0);
}
const result = await rotateKeys(config.keysFile, {
  retainSeconds,
  activationDelaySeconds: config.keyRotation.activationDelaySeconds,
});
console.log(
  `added ${result.added}; kept ${result.kept.join(', ')}; removed ${result.removed.join(', ') || 'none'}`,
);
console.log(
  `Replicas reading this file publish it within ${config.keyRotation.reloadSeconds} s and sign with it from ${result.signsFrom}.`,
);
