/**
 * The console's API types follow the contract: public/api/schema.generated.d.ts is what
 * scripts/api-types.ts makes of the gateway's merged document now, and a field the console's
 * views read (the admin views' users, the catalog's products), renamed in that document, fails
 * tsc in the view that reads it.
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

/**
 * tsc's errors on a copy of the console's script (all of public/, beside the repository's
 * node_modules) typed from `changed` instead of the current contract; none when it passes.
 */
async function tscErrorsOn(changed: unknown): Promise<string[]> {
  const dir = mkdtempSync(join(web, '.api-types-'));
  try {
    cpSync(join(web, 'public'), dir, { recursive: true });
    writeFileSync(join(dir, 'api', 'schema.generated.d.ts'), await schemaTypes(changed as OpenApiDocument));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(root, 'tsconfig.json'), include: ['**/*'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const failed = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', dir]).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    return failed.trim().split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Schema = { properties?: Record<string, unknown>; required?: string[] };

/** Renames a property in every object schema of the document that `owns` it. */
function renameProperty(node: unknown, from: string, to: string, owns: (schema: Schema) => boolean): number {
  if (!node || typeof node !== 'object') return 0;
  let renamed = 0;
  const schema = node as Schema;
  if (schema.properties && from in schema.properties && owns(schema)) {
    schema.properties[to] = schema.properties[from];
    delete schema.properties[from];
    schema.required = schema.required?.map((name) => (name === from ? to : name));
    renamed++;
  }
  for (const value of Object.values(node)) renamed += renameProperty(value, from, to, owns);
  return renamed;
}

test('the console, typed from the current contract, passes tsc', async () => {
  assert.deepEqual(await tscErrorsOn(document), []);
});

test("a field the admin views read, renamed in identity's part of the contract, fails tsc where they read it", async () => {
  const changed = structuredClone(document) as { paths: Record<string, Record<string, unknown>> };
  const users = changed.paths['/api/v1/identity/users']!.get;
  const renamed = renameProperty(users, 'username', 'login', (schema) => 'roles' in schema.properties!);
  assert.ok(renamed > 0, 'the users list answers a username');

  const errors = await tscErrorsOn(changed);
  assert.ok(errors.length > 0, 'tsc passed on a contract without username');
  assert.ok(
    errors.some((line) => /\/admin\/users\.js\(\d+,\d+\): error TS\d+: .*'username'/.test(line)),
    errors.join('\n'),
  );
  // Nothing else broke: every error is about the renamed field.
  for (const line of errors) assert.match(line, /username/, line);
});

test("a catalog product field, renamed in the catalog's part of the contract, fails tsc in the views that show products", async () => {
  const changed = structuredClone(document) as { paths: Record<string, unknown> };
  // What renaming it in the catalog's product schema would publish: every product, answered or sent.
  const isProduct = (schema: Schema) => 'category_id' in schema.properties! && 'price' in schema.properties!;
  const renamed = Object.entries(changed.paths)
    .filter(([path]) => path.startsWith('/api/v1/products'))
    .reduce((sum, [, item]) => sum + renameProperty(item, 'in_stock', 'available', isProduct), 0);
  assert.ok(renamed > 0, 'the catalog answers products with in_stock');

  const errors = await tscErrorsOn(changed);
  assert.ok(errors.length > 0, 'tsc passed on a contract without in_stock');
  for (const view of ['catalog', 'product'])
    assert.ok(
      errors.some((line) =>
        new RegExp(`/views/${view}\\.js\\(\\d+,\\d+\\): error TS\\d+: .*'in_stock'`).test(line),
      ),
      `${view}.js:\n${errors.join('\n')}`,
    );
  for (const line of errors) assert.match(line, /in_stock/, line);
});
