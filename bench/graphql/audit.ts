/**
 * The graphql-http server audit against the three servers of the bench, so the decision
 * record can cite numbers: how many MUST, SHOULD and MAY checks each passes.
 * Usage: node bench/graphql/audit.ts
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverAudits } from 'graphql-http';
import { start, stop, waitFor } from '../lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
let port = 5300;
for (const kind of ['portico', 'mercurius', 'yoga']) {
  port++;
  const url = `http://127.0.0.1:${port}/graphql`;
  const child = start(process.execPath, [join(here, 'server.ts'), kind, String(port)]);
  try {
    await waitFor(`${url}?query=%7B__typename%7D`);
    const tally: Record<string, { ok: number; failed: string[] }> = {};
    for (const audit of serverAudits({ url, fetchFn: fetch })) {
      const level = audit.name.split(' ')[0]!;
      tally[level] ??= { ok: 0, failed: [] };
      const result = await audit.fn();
      if (result.status === 'ok') tally[level].ok++;
      else tally[level].failed.push(`${audit.id} ${audit.name}`);
    }
    console.log(`## ${kind}`);
    for (const [level, { ok, failed }] of Object.entries(tally)) {
      console.log(`${level}: ${ok}/${ok + failed.length}`);
      for (const name of failed) console.log(`  - failed: ${name}`);
    }
  } finally {
    await stop(child);
  }
}
