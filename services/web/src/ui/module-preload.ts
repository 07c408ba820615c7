/**
 * The modules a console page's script imports, listed in the page as `<link rel="modulepreload">`
 * so the browser asks for them all at once instead of finding each a round trip after its
 * importer arrived (about 30 modules, five or more imports deep). The list is the import graph
 * of the served files, read at start: a module added, moved or no longer imported needs no edit.
 */
import { init, parse } from 'es-module-lexer';

await init;

/**
 * Every module `entry` imports statically, directly or not, breadth first (the ones the browser
 * needs first come first), by their names under /assets/; `entry` itself is not listed.
 * @param source the served text of a module by name, undefined for one that is not served
 */
export function importedModules(entry: string, source: (name: string) => string | undefined): string[] {
  const seen = new Set([entry]);
  const queue = [entry];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const text = source(name);
    if (text === undefined) throw new Error(`the console's ${name} is imported but not served`);
    const [imports] = parse(text, name);
    for (const i of imports) {
      if (i.type === 'dynamic' || !i.specifier) continue;
      // Relative specifiers only: the page's import map maps plain URLs, not bare names.
      const imported = new URL(i.specifier, `file:///${name}`).pathname.slice(1);
      if (seen.has(imported)) continue;
      seen.add(imported);
      queue.push(imported);
    }
  }
  return [...seen].slice(1);
}

/** `html` with a modulepreload link for each module, just before the script that imports them. */
export function withModulePreloads(html: string, script: string, modules: string[]): string {
  const tag = `<script type="module" src="${script}"></script>`;
  if (!html.includes(tag)) throw new Error(`the console's page has no ${tag}`);
  const links = modules.map((name) => `<link rel="modulepreload" href="/assets/${name}">\n`).join('');
  return html.replace(tag, `${links}${tag}`);
}
