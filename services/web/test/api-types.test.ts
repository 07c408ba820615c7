/**
 * The console's API types follow the contract: public/api/schema.generated.d.ts is what
 * scripts/api-types.ts makes of the gateway's merged document now, and a field the admin views
 * read, renamed in that document, fails tsc in the view that reads it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OpenApiDocument } from '@portico/http';
import { mergedDocument, SCHEMA_FILE, schemaTypes } from '../scripts/api-types.ts';

const web = fileURLToPath(new URL('..', import.meta.url));
const root = join(web, '../..');
let document: OpenApiDocument;

before(async () => {
  document = await mergedDocument();
});

test('the committed API types are generated from the current contract (npm run api-types -w services/web after changing it)', async () => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8').split('\n');
  const generated = (await schemaTypes(document)).split('\n');
  const at = generated.findIndex((line, i) => line !== committed[i]);
  const first = at === -1 && committed.length !== generated.length ? generated.length : at;
  assert.equal(
    first,
    -1,
    `schema.generated.d.ts is stale from line ${first + 1}: now "${generated[first]?.trim()}", committed "${committed[first]?.trim()}"`,
  );
});

test("a field the admin views read, renamed in identity's part of the contract, fails tsc where they read it", async () => {
  const changed = structuredClone(document) as { paths: Record<string, Record<string, unknown>> };
  type Schema = { properties: Record<string, unknown>; required: string[] };
  const list = changed.paths['/api/v1/identity/users']!.get as {
    responses: Record<string, { content: Record<string, { schema: Schema }> }>;
  };
  const user = (
    list.responses['200']!.content['application/json']!.schema.properties.data as { items: Schema }
  ).items;
  assert.ok('username' in user.properties, 'the users list answers a username');
  user.properties.login = user.properties.username;
  delete user.properties.username;
  user.required = user.required.map((name) => (name === 'username' ? 'login' : name));

  // A copy of the console's typed modules beside the repository's node_modules, with these types.
  const dir = mkdtempSync(join(web, '.api-types-'));
  try {
    for (const folder of ['admin', 'api', 'vendor'])
      cpSync(join(web, 'public', folder), join(dir, folder), { recursive: true });
    writeFileSync(
      join(dir, 'api', 'schema.generated.d.ts'),
      await schemaTypes(changed as unknown as OpenApiDocument),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(root, 'tsconfig.json'), include: ['admin', 'api'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const failed = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', dir]).then(
      () => undefined,
      (err: { stdout: string }) => err.stdout,
    );
    assert.ok(failed, 'tsc passed on a contract without username');
    const errors = failed.trim().split('\n');
    assert.ok(
      errors.some((line) => /\/admin\/users\.js\(\d+,\d+\): error TS\d+: .*'username'/.test(line)),
      failed,
    );
    // Nothing else broke: every error is about the renamed field.
    for (const line of errors) assert.match(line, /username/, line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
