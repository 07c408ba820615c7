/**
 * Every workspace declares exactly what it imports: each package a file imports is in its
 * workspace's dependencies (devDependencies for what only tests and benches use), and each
 * declared package is imported somewhere in it. npm's hoisting makes an undeclared import work
 * here and fail for whoever installs one workspace alone, so only this check catches it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

const root = join(import.meta.dirname, '../../..');

/** Packages run as commands, never imported: the toolchain the root declares. */
const COMMANDS = new Set(['@biomejs/biome', 'typescript', 'node']);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  workspaces?: string[];
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

const rootManifest = readJson(join(root, 'package.json'));
const workspaces = rootManifest.workspaces!.flatMap((pattern) =>
  pattern.endsWith('/*')
    ? readdirSync(join(root, pattern.slice(0, -2)))
        .map((name) => join(pattern.slice(0, -2), name))
        .filter((dir) => existsSync(join(root, dir, 'package.json')))
    : [pattern],
);

/** Source files of a workspace: everything but node_modules, dot folders and other workspaces. */
function sources(dir: string, skip: Set<string>): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || skip.has(path)) continue;
    if (entry.isDirectory()) out.push(...sources(path, skip));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// Static imports and re-exports (type-only too: their types come from the package), side-effect
// imports, dynamic imports of a string or of a template's fixed prefix, and a package's file
// located with import.meta.resolve (a module the console serves to browsers).
const IMPORT =
  /^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport(?:\.meta\.resolve)?\(\s*['"`]([^'"`$]+)/gm;

function packageOf(specifier: string): string | undefined {
  if (/^[./#]/.test(specifier) || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

/** package → the first file that imports it, for the workspace at `dir`. */
function imports(dir: string): Map<string, string> {
  const skip = new Set(dir === '.' ? workspaces : []);
  const found = new Map<string, string>();
  for (const file of sources(dir, skip)) {
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(IMPORT)) {
      const name = packageOf(match[1] ?? match[2] ?? match[3]!);
      if (name && !found.has(name)) found.set(name, relative(root, join(root, file)));
    }
  }
  return found;
}

describe('workspace manifests', () => {
  for (const dir of ['.', ...workspaces]) {
    test(`${dir === '.' ? 'the root' : dir} declares exactly what it imports`, () => {
      const manifest = dir === '.' ? rootManifest : readJson(join(root, dir, 'package.json'));
      const declared = new Set(
        [manifest.dependencies, manifest.devDependencies, manifest.peerDependencies].flatMap((deps) =>
          Object.keys(deps ?? {}),
        ),
      );
      const used = imports(dir);
      used.delete(manifest.name);
      const undeclared = [...used].filter(([name]) => !declared.has(name)).map(([n, f]) => `${n} (${f})`);
      const unused = [...declared].filter(
        (name) => !used.has(name) && !name.startsWith('@types/') && !(dir === '.' && COMMANDS.has(name)),
      );
      assert.deepEqual({ undeclared, unused }, { undeclared: [], unused: [] });
    });
  }

  test('@types/x is declared only beside x', () => {
    for (const dir of ['.', ...workspaces]) {
      const manifest = dir === '.' ? rootManifest : readJson(join(root, dir, 'package.json'));
      const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
      for (const name of declared.filter((n) => n.startsWith('@types/') && n !== '@types/node')) {
        const pkg = name.slice('@types/'.length).replace(/^(.+)__(.+)$/, '@$1/$2');
        assert.ok(declared.includes(pkg), `${dir}: ${name} is declared without ${pkg}`);
      }
    }
  });
});
