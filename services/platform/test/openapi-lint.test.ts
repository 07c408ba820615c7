import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, type TSchema } from '@portico/config';
import type { ServiceModule } from '@portico/http';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Spectral } from '@stoplight/spectral-core';
import { oas } from '@stoplight/spectral-rulesets';
import type { FastifyInstance } from 'fastify';
import { services } from '../src/services.ts';

test('baseline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-openapi-'));
  const started: FastifyInstance[] = [];
  const redocly = await createConfig({ extends: ['recommended'] });
  const spectral = new Spectral();
  spectral.setRuleset(oas as never);
  try {
    for (const { name, module } of services) {
      const schema = (module as ServiceModule<TSchema>).ConfigSchema;
      const config = loadConfig(name, schema, {
        env: { CATALOG_DEMO_DATA: 'false', PORTICO_WEB_CLIENT_SECRET: 'a-secret-for-the-test-only' },
        overrides: {
          port: 0,
          logLevel: 'silent',
          ...('databaseUrl' in (schema as { properties: object }).properties
            ? { databaseUrl: `sqlite:${join(dir, `${name}.db`)}` }
            : {}),
          ...(name === 'identity' ? { keysFile: '', demoLoginsFile: '', demoAccounts: false } : {}),
        } as never,
      });
      const server = await module.build(config);
      started.push(server);
      const base = await server.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${base}/openapi.json`);
      const text = await res.text();
      writeFileSync(`/tmp/oa/${name}.json`, text);
      if (res.status !== 200) { console.log(name, res.status, text.slice(0, 300)); continue; }
      const r = await lintFromString({ source: text, absoluteRef: `${base}/openapi.json`, config: redocly });
      const s = await spectral.run(JSON.parse(text));
      const rc = (sev: string) => r.filter((p) => p.severity === sev).length;
      const sc = (sev: number) => s.filter((p) => p.severity === sev).length;
      console.log(name, 'redocly', rc('error'), rc('warn'), 'spectral', sc(0), sc(1));
      const byRule = new Map<string, number>();
      for (const p of r) byRule.set(`r:${p.ruleId}:${p.severity}`, (byRule.get(`r:${p.ruleId}:${p.severity}`) ?? 0) + 1);
      for (const p of s) if (p.severity <= 1) byRule.set(`s:${p.code}:${p.severity}`, (byRule.get(`s:${p.code}:${p.severity}`) ?? 0) + 1);
      console.log('  ', JSON.stringify(Object.fromEntries(byRule)));
    }
  } finally {
    for (const server of started) await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
