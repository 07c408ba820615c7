/**
 * A user's own sign-in methods (`/account/security`) on real sockets: the page opens only
 * after the password and, with the app on, a code (and an account whose second step is a
 * passkey is asked for one); each change — a passkey removed, new recovery codes, the app
 * turned off — asks for the password again, is refused with a wrong one (nothing changed),
 * needs the form's CSRF token and the page's ticket, and is in the audit log. Passkeys are put
 * in the store directly: their ceremonies run in chromium (passkeys-e2e.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Database, openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { type Browser, createBrowser, FlowError } from '../src/cli/browser.ts';
import { passkeysTable } from '../src/data/passkeys.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { passkeyRow } from '../src/domain/passkeys.ts';
import {
  codeAt,
  codeOf,
  csrfOf,
  type Enrolled,
  enrol,
  type RunningIdentity,
  signInWeb,
  startIdentity,
  ticketOf,
} from './support/harness.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`sign-in methods, managed by their owner (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-security-'));
    const database = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    let identity: RunningIdentity;
    let store: Database<IdentityDatabase>;
    let alice: { username: string; password: string };
    let aliceId: string;
    let app: Enrolled;
    const browser: Browser = createBrowser();
    const url = (path: string) => new URL(path, identity.issuer);

    before(async () => {
      // Every request comes from 127.0.0.1: the per-IP limit is raised, the per-account one is the default 5.
      identity = await startIdentity(database, { demoAccounts: true, throttle: { maxFailuresPerIp: 1000 } });
      store = openDatabase<IdentityDatabase>({ url: database.url, schema: target.schema });
      alice = identity.login('alice');
      aliceId = (
        await store.db
          .selectFrom('accounts')
          .select('id')
          .where('username', '=', 'alice')
          .executeTakeFirstOrThrow()
      ).id;
      // The app first: with a passkey as its second step, the password alone would not add one.
      app = await enrol(identity, alice);
      const passkeys = passkeysTable(store.db);
      for (const id of ['passkey-one', 'passkey-two'])
        await passkeys.insert(
          passkeyRow({
            id,
            accountId: aliceId,
            publicKey: new Uint8Array(77),
            counter: 0,
            transports: ['internal'],
            deviceType: 'singleDevice',
          }),
        );
    });
    after(async () => {
      await store?.close();
      await identity?.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const passkeysOf = async (accountId: string) =>
      (await store.db.selectFrom('passkeys').select('id').where('account_id', '=', accountId).execute()).map(
        (r) => r.id,
      );
    const audited = async () =>
      (
        await store.db
          .selectFrom('audit_log')
          .select('action')
          .where('target', '=', aliceId)
          .where('actor', '=', 'self')
          .execute()
      ).map((r) => r.action);

    /** The page, opened with the password and `code`: its status and HTML. */
    async function open(password: string, code?: string) {
      const form = await (await browser.request(url('/account/security'))).text();
      const res = await browser.request(url('/account/security'), {
        csrf: csrfOf(form),
        username: alice.username,
        password,
        ...(code === undefined ? {} : { code }),
      });
      return { status: res.status, html: await res.text() };
    }

    /** A change posted from the opened `page`'s form. */
    async function change(page: string, path: string, fields: Record<string, string>) {
      const res = await browser.request(url(path), { csrf: csrfOf(page), ticket: ticketOf(page), ...fields });
      return { status: res.status, html: await res.text() };
    }

    test('the page opens after the password and, with the app on, a code; not before', async () => {
      const wrong = await open('not the password', await codeAt(app.secret, 0));
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrong.html), 'WRONG_PASSWORD');
      assert.doesNotMatch(wrong.html, /passkey-one/);

      const noCode = await open(alice.password);
      assert.equal(noCode.status, 401);
      assert.equal(codeOf(noCode.html), 'WRONG_CODE');
      assert.doesNotMatch(noCode.html, /passkey-one/);

      const opened = await open(alice.password, app.recoveryCodes.pop()!);
      assert.equal(opened.status, 200, opened.html);
      assert.match(opened.html, /value="passkey-one"/);
      assert.match(opened.html, /value="passkey-two"/);
      assert.match(opened.html, /On\. 9 recovery codes left\./);
    });

    test('name a passkey: refused with a wrong password or a name out of bounds (nothing changed); then named, audited', async () => {
      const { html: page } = await open(alice.password, app.recoveryCodes.pop()!);
      assert.match(page, /<th scope="row">Passkey 2<\/th>/, 'unnamed: its place in the list');
      const rename = (html: string, password: string, name: string) =>
        change(html, '/account/security/passkeys/rename', {
          password,
          credential: 'passkey-two',
          'name:passkey-two': name,
        });

      const wrong = await rename(page, 'not the password', 'Work laptop');
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrong.html), 'WRONG_PASSWORD');
      for (const name of ['   ', 'x'.repeat(65), 'tab\there']) {
        const refused = await rename(wrong.html, alice.password, name);
        assert.equal(refused.status, 422, name);
        assert.equal(codeOf(refused.html), 'INVALID_PASSKEY_NAME');
      }
      const names = async () =>
        (
          await store.db.selectFrom('passkeys').select('name').where('account_id', '=', aliceId).execute()
        ).map((r) => r.name);
      assert.deepEqual(await names(), [null, null]);

      const named = await rename(wrong.html, alice.password, '  Work <laptop>  ');
      assert.equal(named.status, 200, named.html);
      assert.match(named.html, /<th scope="row">Work &lt;laptop&gt;<\/th>/);
      assert.match(named.html, /aria-label="Remove Work &lt;laptop&gt;"/);
      assert.deepEqual((await names()).sort(), ['Work <laptop>', null].sort());
      assert.ok((await audited()).includes('account.passkey_renamed'));
    });

    test('remove a passkey: refused with a wrong password, without the CSRF token or the ticket; then removed, audited', async () => {
      const { html: page } = await open(alice.password, app.recoveryCodes.pop()!);

      const wrong = await change(page, '/account/security/passkeys/remove', {
        password: 'not the password',
        credential: 'passkey-one',
      });
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrong.html), 'WRONG_PASSWORD');
      assert.match(wrong.html, /value="passkey-one"/, 'the page again, the passkey still listed');
      assert.deepEqual((await passkeysOf(aliceId)).sort(), ['passkey-one', 'passkey-two']);

      const forged = await browser.request(url('/account/security/passkeys/remove'), {
        ticket: ticketOf(page),
        password: alice.password,
        credential: 'passkey-one',
      });
      assert.equal(forged.status, 403);
      assert.equal(codeOf(await forged.text()), 'CSRF_TOKEN_INVALID');
      const noTicket = await browser.request(url('/account/security/passkeys/remove'), {
        csrf: csrfOf(page),
        ticket: 'made-up',
        password: alice.password,
        credential: 'passkey-one',
      });
      assert.equal(noTicket.status, 400);
      assert.equal(codeOf(await noTicket.text()), 'LINK_INVALID');
      assert.deepEqual((await passkeysOf(aliceId)).sort(), ['passkey-one', 'passkey-two']);

      const unknown = await change(wrong.html, '/account/security/passkeys/remove', {
        password: alice.password,
        credential: 'someone-elses',
      });
      assert.equal(unknown.status, 404);
      assert.equal(codeOf(unknown.html), 'PASSKEY_NOT_FOUND');

      const removed = await change(unknown.html, '/account/security/passkeys/remove', {
        password: alice.password,
        credential: 'passkey-one',
      });
      assert.equal(removed.status, 200, removed.html);
      assert.match(removed.html, /id="security-done">The passkey is removed/);
      assert.doesNotMatch(removed.html, /passkey-one/);
      assert.match(removed.html, /value="passkey-two"/);
      assert.deepEqual(await passkeysOf(aliceId), ['passkey-two']);
      assert.ok((await audited()).includes('account.passkey_removed'));
    });

    test('new recovery codes: refused with a wrong password (the old ones still work); shown once, the old ones void', async () => {
      const { html: page } = await open(alice.password, await codeAt(app.secret, 0));
      const wrong = await change(page, '/account/security/recovery-codes', { password: 'not the password' });
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrong.html), 'WRONG_PASSWORD');
      assert.doesNotMatch(wrong.html, /id="recovery-codes"/);
      const old = app.recoveryCodes.pop()!;
      const stillWorks = await signInWeb(identity.issuer, { ...alice, code: () => old });
      assert.ok(stillWorks.tokens.access_token);

      const renewed = await change(wrong.html, '/account/security/recovery-codes', {
        password: alice.password,
      });
      assert.equal(renewed.status, 200, renewed.html);
      const codes = [...renewed.html.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      assert.equal(codes.length, 10);
      assert.match(renewed.html, /On\. 10 recovery codes left\./);
      assert.ok((await audited()).includes('account.recovery_codes_renewed'));

      const oldCode = app.recoveryCodes.pop()!;
      await assert.rejects(signInWeb(identity.issuer, { ...alice, code: () => oldCode }), FlowError);
      const fresh = await signInWeb(identity.issuer, { ...alice, code: () => codes[0]! });
      assert.ok(fresh.tokens.access_token);
      app.recoveryCodes = codes.slice(1);
    });

    test('turn the app off: refused with a wrong password (still on); then off, audited; the passkey left is the second step', async () => {
      const { html: page } = await open(alice.password, app.recoveryCodes.pop()!);
      const wrong = await change(page, '/account/security/two-step/off', { password: 'not the password' });
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrong.html), 'WRONG_PASSWORD');
      assert.match(wrong.html, /On\. \d+ recovery codes left\./);

      const off = await change(wrong.html, '/account/security/two-step/off', { password: alice.password });
      assert.equal(off.status, 200, off.html);
      assert.match(off.html, /id="security-done">Two-step sign-in with the app is off/);
      assert.match(off.html, /Off: your passkey is your second step\./);
      const left = await store.db
        .selectFrom('recovery_codes')
        .select('code_hash')
        .where('account_id', '=', aliceId)
        .execute();
      assert.equal(left.length, 0);
      assert.ok((await audited()).includes('account.second_factor_removed'));

      const again = await change(off.html, '/account/security/two-step/off', { password: alice.password });
      assert.equal(again.status, 409);
      assert.equal(codeOf(again.html), 'SECOND_FACTOR_OFF');
      const noCodes = await change(again.html, '/account/security/recovery-codes', {
        password: alice.password,
      });
      assert.equal(noCodes.status, 409);
      assert.equal(codeOf(noCodes.html), 'SECOND_FACTOR_OFF');

      // With the app off, the passkey is the account's second step: the password alone does not open the page.
      const reopened = await open(alice.password);
      assert.equal(reopened.status, 200);
      assert.match(reopened.html, /<h1>Confirm with a passkey<\/h1>/);
      assert.match(reopened.html, /action="\/account\/security\/confirm"/);
      assert.doesNotMatch(reopened.html, /value="passkey-two"/);
    });

    test('a page whose ticket was replaced by a newer one changes nothing', async () => {
      await store.db.deleteFrom('passkeys').where('account_id', '=', aliceId).execute();
      const first = await open(alice.password);
      assert.equal(first.status, 200, first.html);
      assert.match(first.html, /No passkeys\./);
      assert.match(first.html, /Off\. <a href="\/account\/two-step">Turn on two-step sign-in<\/a>/);
      const second = await open(alice.password);
      assert.equal(second.status, 200);
      const stale = await change(first.html, '/account/security/two-step/off', { password: alice.password });
      assert.equal(stale.status, 400);
      assert.equal(codeOf(stale.html), 'LINK_INVALID');
      assert.match(
        stale.html,
        /<h1>Your sign-in methods<\/h1>[\s\S]*name="username"/,
        'asked who it is again',
      );
    });
  });
}
