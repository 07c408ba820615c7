/**
 * Reads an OpenAPI 3.x document for `portico gateway import`: a file or an http(s) URL, YAML or
 * JSON, with Redocly's resolver (the library the platform's lint test uses). It is checked
 * against the OpenAPI structure and every `$ref` must resolve, each problem named by where it
 * is (`paths./notes.get.responses (line 12:18)`); then every `$ref`, local or to another file or
 * URL, is replaced by what it points to, so the mapping (routes.ts) reads plain values.
 */
import {
  bundle,
  createConfig,
  detectSpec,
  getLineColLocation,
  lint,
  type NormalizedProblem,
} from '@redocly/openapi-core';
import { ImportError } from './routes.ts';

const RULES = { struct: 'error', 'no-unresolved-refs': 'error' } as const;

/** `#/paths/~1notes~1{id}/get` → `paths./notes/{id}.get` (the root: `(root)`). */
export function pointerWords(pointer: string): string {
  const parts = pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~'));
  return parts.length ? parts.join('.') : '(root)';
}

function describe(problem: NormalizedProblem, source: string): string {
  const location = problem.location[0];
  if (!location) return problem.message;
  const file = location.source.absoluteRef;
  const elsewhere = file !== source && !source.endsWith(file) ? ` in ${file}` : '';
  let line = '';
  try {
    const { start } = getLineColLocation(location);
    line = ` (line ${start.line}:${start.col}${elsewhere})`;
  } catch {
    line = elsewhere ? ` (${elsewhere.trim()})` : '';
  }
  return `${pointerWords(location.pointer ?? '#/')}${line}: ${problem.message}`;
}

export async function readDocument(source: string): Promise<Record<string, unknown>> {
  const config = await createConfig({ rules: RULES });
  let problems: NormalizedProblem[];
  try {
    problems = await lint({ ref: source, config });
  } catch (err) {
    throw new ImportError(source, [(err as Error).message]);
  }
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0)
    throw new ImportError(
      source,
      errors.map((problem) => describe(problem, source)),
    );
  const { bundle: bundled } = await bundle({ ref: source, config, dereference: true });
  const document = bundled.parsed as Record<string, unknown>;
  let spec: string;
  try {
    spec = detectSpec(document);
  } catch (err) {
    throw new ImportError(source, [(err as Error).message]);
  }
  if (spec !== 'oas3_0' && spec !== 'oas3_1' && spec !== 'oas3_2')
    throw new ImportError(source, [
      `this is not an OpenAPI 3 document (${spec}); import takes OpenAPI 3.0 to 3.2`,
    ]);
  return document;
}
