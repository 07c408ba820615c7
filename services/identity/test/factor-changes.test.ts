/**
 * What a change of sign-in factor does to the account's other sessions, on real sockets: a
 * passkey removed, new recovery codes, the app turned off or a new password each end every
 * other session and grant (their refresh tokens stop, their grants go on the revocation list),
 * so a thief who signed in with the old factor is out, while the browser that made the change
 * stays signed in. And a password change asks for the account's second factor: the app's code,
 * or for an account whose second step is a passkey, one of its passkeys (a software
 * authenticator here, its key put in the store directly); refused without it, nothing changed.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REVOCATION_CHANNEL, type Revocation, revocationBus } from '@portico/auth';
import { type Database, openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import * as client from 'openid-client';
import { type Browser, type Credentials, createBrowser } from '../src/cli/browser.ts';
import { passkeysTable } from '../src/data/passkeys.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { passkeyRow } from '../src/domain/passkeys.ts';
import {
  API_SCOPES,
  codeOf,
  csrfOf,
  type Enrolled,
  enrol,
  pkce,
  type RunningIdentity,
  startIdentity,
  ticketOf,
  WEB,
  webClient,
} from './support/harness.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const optionsOf = (html: string) =>
  JSON.parse(
    /<script type="application\/json" id="passkey-options">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null',
  ) as { challenge: string; rpId: string } | null;
const invalidGrant = (err: unknown) =>
  err instanceof client.ResponseBodyError && err.error === 'invalid_grant';
const grantOf = (accessToken: string) =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { grant_id: string })
    .grant_id;

/** An authenticator in software: an ES256 key, its COSE form for the store, and assertions. */
function softPasskey(accountId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  // COSE_Key (RFC 9053): {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, in CBOR.
  const cose = Buffer.concat([
    Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from([0x22, 0x58, 0x20]),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  const id = b64(randomBytes(16));
  let counter = 0;
  const key: KeyObject = privateKey;
  return {
    id,
    cose: new Uint8Array(cose),
    /** The answer to `options` from `origin`, user present and verified. */
    assert(options: { challenge: string; rpId: string }, origin: string) {
      const clientData = Buffer.from(
        JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }),
      );
      const count = Buffer.alloc(4);
      count.writeUInt32BE(++counter);
      const authData = Buffer.concat([
        createHash('sha256').update(options.rpId).digest(),
        Buffer.from([0x05]),
        count,
      ]);
      const signed = Buffer.concat([authData, createHash('sha256').update(clientData).digest()]);
      return {
        id,
        rawId: id,
        type: 'public-key',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64(clientData),
          authenticatorData: b64(authData),
          signature: b64(sign('sha256', signed, key)),
          userHandle: b64(Buffer.from(accountId)),
        },
      };
    },
  };
}

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`a changed sign-in factor signs the other sessions out (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-factors-'));
    const database = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    let identity: RunningIdentity;
    let store: Database<IdentityDatabase>;
    let alice: { username: string; password: string };
    let aliceId: string;
    let app: Enrolled;
    const url = (path: string) => new URL(path, identity.issuer);

    before(async () => {
      identity = await startIdentity(database, { demoAccounts: true, throttle: { maxFailuresPerIp: 1000 } });
      store = openDatabase<IdentityDatabase>({ url: database.url, schema: target.schema });
      alice = identity.login('alice');
      aliceId = await idOf('alice');
      app = await enrol(identity, alice);
    });
    after(async () => {
      await store?.close();
      await identity?.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    async function idOf(username: string) {
      const row = await store.db
        .selectFrom('accounts')
        .select('id')
        .where('username', '=', username)
        .executeTakeFirstOrThrow();
      return row.id;
    }
    const hashOf = async (id: string) =>
      (
        await store.db
          .selectFrom('accounts')
          .select('password_hash')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).password_hash;
    const sessionsOf = async (id: string) =>
      (
        await store.db
          .selectFrom('account_artefacts')
          .select('id')
          .where('account_id', '=', id)
          .where('kind', '=', 'session')
          .execute()
      ).length;

    /** Signs in as the console in `browser` (which keeps the session cookie): its tokens. */
    async function signIn(browser: Browser, credentials: Credentials) {
      const config = await webClient(identity.issuer);
      const p = await pkce();
      const auth = client.buildAuthorizationUrl(config, {
        redirect_uri: WEB.redirect,
        scope: `openid offline_access ${API_SCOPES}`,
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
        state: p.state,
      });
      const callback = await browser.authorize(auth, WEB.redirect, credentials);
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: p.verifier,
        expectedState: p.state,
      });
      return { config, tokens, grant: grantOf(tokens.access_token) };
    }
    const withCode = () => ({ ...alice, code: () => app.recoveryCodes.pop()! });

    /** The owner's browser and a thief's, both signed in; `change` runs in the owner's. */
    async function ownerAndThief(change: (owner: Browser) => Promise<void>) {
      const ownerBrowser = createBrowser();
      const owner = await signIn(ownerBrowser, withCode());
      const thief = await signIn(createBrowser(), withCode());
      const heard: Revocation[] = [];
      const bus = revocationBus();
      const unsubscribe = await bus.subscribe(REVOCATION_CHANNEL, (m) => heard.push(m as Revocation));
      try {
        await change(ownerBrowser);
        const deadline = Date.now() + 20_000;
        while (!heard.some((r) => r.type === 'grant' && r.grant_id === thief.grant)) {
          assert.ok(Date.now() < deadline, `the thief's grant was not published: ${JSON.stringify(heard)}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      } finally {
        await unsubscribe();
      }
      await assert.rejects(client.refreshTokenGrant(thief.config, thief.tokens.refresh_token!), invalidGrant);
      const refreshed = await client.refreshTokenGrant(owner.config, owner.tokens.refresh_token!);
      assert.ok(refreshed.access_token, 'the browser that made the change stays signed in');
      assert.ok(
        !heard.some((r) => (r.type === 'grant' && r.grant_id === owner.grant) || r.type === 'sub'),
        `the owner's tokens are not revoked: ${JSON.stringify(heard)}`,
      );
      assert.equal(await sessionsOf(aliceId), 1, "only the owner's session is left");
    }

    /** /account/security opened in `browser` with the password and a recovery code. */
    async function securityPage(browser: Browser) {
      const form = await (await browser.request(url('/account/security'))).text();
      const res = await browser.request(url('/account/security'), {
        csrf: csrfOf(form),
        username: alice.username,
        password: alice.password,
        code: app.recoveryCodes.pop()!,
      });
      const html = await res.text();
      assert.equal(res.status, 200, html);
      return html;
    }
    async function change(browser: Browser, page: string, path: string, fields: Record<string, string> = {}) {
      const res = await browser.request(url(path), {
        csrf: csrfOf(page),
        ticket: ticketOf(page),
        password: alice.password,
        ...fields,
      });
      const html = await res.text();
      assert.equal(res.status, 200, html);
      assert.match(html, /Every other device signed in to your account is signed out\./);
      return html;
    }

    test('new recovery codes end the other sessions; this browser stays', async () => {
      await ownerAndThief(async (owner) => {
        const html = await change(owner, await securityPage(owner), '/account/security/recovery-codes');
        app.recoveryCodes = [...html.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
        assert.equal(app.recoveryCodes.length, 10);
      });
    });

    test('a passkey removed ends the other sessions; naming one does not', async () => {
      await passkeysTable(store.db).insert(
        passkeyRow({
          id: 'stolen-passkey',
          accountId: aliceId,
          publicKey: new Uint8Array(77),
          counter: 0,
          transports: ['internal'],
          deviceType: 'multiDevice',
        }),
      );
      const bystander = await signIn(createBrowser(), withCode());
      await ownerAndThief(async (owner) => {
        const page = await securityPage(owner);
        const renamed = await owner.request(url('/account/security/passkeys/rename'), {
          csrf: csrfOf(page),
          ticket: ticketOf(page),
          password: alice.password,
          credential: 'stolen-passkey',
          'name:stolen-passkey': 'Old phone',
        });
        const renamedHtml = await renamed.text();
        assert.equal(renamed.status, 200, renamedHtml);
        assert.doesNotMatch(renamedHtml, /signed out/);
        assert.ok(
          (await client.refreshTokenGrant(bystander.config, bystander.tokens.refresh_token!)).access_token,
          'a name changes no factor: other sessions stay',
        );
        await change(owner, renamedHtml, '/account/security/passkeys/remove', {
          credential: 'stolen-passkey',
        });
      });
      await assert.rejects(
        client.refreshTokenGrant(bystander.config, bystander.tokens.refresh_token!),
        invalidGrant,
      );
    });

    test('a password change needs the code, then ends the other sessions; this browser stays', async () => {
      const before = await hashOf(aliceId);
      const next = 'quartz lantern evening';
      await ownerAndThief(async (owner) => {
        const post = async (fields: Record<string, string>) => {
          const form = await (await owner.request(url('/account/password'))).text();
          const res = await owner.request(url('/account/password'), {
            csrf: csrfOf(form),
            username: alice.username,
            current: alice.password,
            password: next,
            ...fields,
          });
          return { status: res.status, html: await res.text() };
        };
        const noCode = await post({});
        assert.equal(noCode.status, 401);
        assert.equal(codeOf(noCode.html), 'WRONG_CODE');
        assert.equal(await hashOf(aliceId), before, 'nothing changed');
        const changed = await post({ code: app.recoveryCodes.pop()! });
        assert.equal(changed.status, 200, changed.html);
        assert.match(changed.html, /Every other device signed in to your account is signed out\./);
      });
      assert.notEqual(await hashOf(aliceId), before);
      alice = { ...alice, password: next };
    });

    test('the app turned off ends the other sessions', async () => {
      await ownerAndThief(async (owner) => {
        await change(owner, await securityPage(owner), '/account/security/two-step/off');
      });
    });

    test('a password change on an account whose second step is a passkey needs the passkey', async () => {
      const admin = identity.login('admin');
      const adminId = await idOf('admin');
      const passkey = softPasskey(adminId);
      await passkeysTable(store.db).insert(
        passkeyRow({
          id: passkey.id,
          accountId: adminId,
          publicKey: passkey.cose,
          counter: 0,
          transports: ['internal'],
          deviceType: 'singleDevice',
        }),
      );
      const before = await hashOf(adminId);
      const browser = createBrowser();
      const origin = new URL(identity.issuer).origin;
      const start = async () => {
        const form = await (await browser.request(url('/account/password'))).text();
        const res = await browser.request(url('/account/password'), {
          csrf: csrfOf(form),
          username: 'admin',
          current: admin.password,
          password: 'granite harbour violet',
        });
        const html = await res.text();
        assert.equal(res.status, 200, html);
        assert.match(html, /<h1>Confirm with a passkey<\/h1>/, 'the password alone does not do');
        assert.match(html, /action="\/account\/password\/confirm"/);
        return html;
      };
      const confirm = async (page: string, response: unknown) => {
        const res = await browser.request(url('/account/password/confirm'), {
          csrf: csrfOf(page),
          ticket: ticketOf(page),
          response: JSON.stringify(response),
        });
        return { status: res.status, html: await res.text() };
      };

      const asked = await start();
      assert.equal(await hashOf(adminId), before, 'nothing changed before the passkey');
      const stranger = softPasskey(adminId).assert(optionsOf(asked)!, origin);
      const forged = await confirm(asked, stranger);
      assert.equal(forged.status, 400);
      assert.equal(codeOf(forged.html), 'PASSKEY_NOT_ACCEPTED');
      const replayed = await confirm(asked, passkey.assert(optionsOf(asked)!, origin));
      assert.equal(replayed.status, 400, 'the challenge was spent by the refused answer');
      assert.equal(codeOf(replayed.html), 'LINK_INVALID');
      const madeUp = await browser.request(url('/account/password/new'), {
        csrf: csrfOf(replayed.html),
        ticket: 'made-up',
        password: 'granite harbour violet',
      });
      assert.equal(madeUp.status, 400);
      assert.equal(codeOf(await madeUp.text()), 'LINK_INVALID');
      assert.equal(await hashOf(adminId), before, 'nothing changed after the refusals');

      const again = await start();
      const confirmed = await confirm(again, passkey.assert(optionsOf(again)!, origin));
      assert.equal(confirmed.status, 200, confirmed.html);
      assert.match(confirmed.html, /<h1>Choose your new password<\/h1>/);
      const setNew = async (page: string, password: string) => {
        const res = await browser.request(url('/account/password/new'), {
          csrf: csrfOf(page),
          ticket: ticketOf(page),
          password,
        });
        return { status: res.status, html: await res.text() };
      };
      const weak = await setNew(confirmed.html, 'iloveyou');
      assert.equal(weak.status, 422);
      assert.equal(codeOf(weak.html), 'WEAK_PASSWORD');
      assert.equal(await hashOf(adminId), before);
      const done = await setNew(weak.html, 'granite harbour violet');
      assert.equal(done.status, 200, done.html);
      assert.match(done.html, /Password changed/);
      assert.notEqual(await hashOf(adminId), before);
      const spent = await setNew(weak.html, 'another long passphrase');
      assert.equal(spent.status, 400);
      assert.equal(codeOf(spent.html), 'LINK_INVALID');
    });
  });
}
