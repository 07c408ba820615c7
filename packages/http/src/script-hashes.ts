/**
 * CSP hash sources for a page's inline scripts: each `<script>` without `src`, hashed as the
 * browser hashes it (its text, UTF-8, after HTML's newline normalisation), so a policy can name
 * exactly the scripts a page was served with and no other inline script runs.
 */
import { createHash } from 'node:crypto';
import { Parser } from 'htmlparser2';

/** `'sha256-…'` for each distinct inline script of `html`, in document order. */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  let text: string[] | undefined;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'script' && attributes.src === undefined) text = [];
      },
      ontext(chunk) {
        text?.push(chunk);
      },
      onclosetag(name) {
        if (name !== 'script' || !text) return;
        const source = text.join('').replace(/\r\n?/g, '\n');
        hashes.add(`'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`);
        text = undefined;
      },
    },
    { decodeEntities: false },
  );
  parser.end(html);
  return [...hashes];
}
