/**
 * `npm run scaleout -- --duration 120s --rate 100 [--image portico]`: the scale-out
 * deployment (services/platform/src/scaleout) under longer load than CI runs: kill -9 of
 * one replica of each kind, then a rolling restart. Writes bench/results/scaleout.md.
 * `npm run scaleout -- --up` only starts it and prints where everything is, until Ctrl-C.
 * Needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL, or the local defaults).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDeployment } from '../../services/platform/src/scaleout/deployment.ts';
import { dockerLauncher, processLauncher } from '../../services/platform/src/scaleout/launcher.ts';
import {
  killUnderLoad,
  prepare,
  REPLICATED,
  type RunResult,
  rolloutUnderLoad,
} from '../../services/platform/src/scaleout/scenarios.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60s' },
    rate: { type: 'string', default: '100' },
    image: { type: 'string' },
    up: { type: 'boolean', default: false },
    out: { type: 'string', default: join(import.meta.dirname, '../results/scaleout.md') },
  },
});
const durationMs = /^(\d+)(ms|s|m)?$/.exec(values.duration!)
  ? Number(values.duration!.replace(/\D+$/, '')) *
    { ms: 1, s: 1000, m: 60_000 }[values.duration!.replace(/^\d+/, '') || 's']!
  : Number.NaN;
const rate = Number(values.rate);
// Bounded: loopback only, at most 10 minutes at 500 requests a second.
if (!(durationMs > 0 && durationMs <= 600_000 && rate > 0 && rate <= 500)) {
  console.error('--duration must be 1s…10m and --rate 1…500');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'portico-scaleout-'));
const loadBefore = loadavg()[0]!.toFixed(2);
const t0 = Date.now();
const deployment = await startDeployment({
  launcher: values.image ? dockerLauncher(values.image) : processLauncher(),
  databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  dir,
});
const startMs = Date.now() - t0;
console.log(`deployment up in ${(startMs / 1000).toFixed(1)} s`);
if (values.up) {
  // Just the deployment, to look around in: Ctrl-C stops every replica and drops its schemas.
  console.log(
    [
      `console   ${deployment.url('web')}`,
      `API       ${deployment.url('gateway')}`,
      `identity  ${deployment.url('identity')}`,
      ...Object.entries(deployment.logins).map(([user, password]) => `login     ${user} / ${password}`),
      ...deployment.replicas.map((r) => `replica   ${r.name.padEnd(12)} ${deployment.replicaUrl(r.name)}`),
      `HAProxy   ${dir}/haproxy.cfg`,
    ].join('\n'),
  );
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await deployment.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
let kill: RunResult;
let rollout: RunResult;
try {
  const fixture = await prepare(deployment);
  kill = await killUnderLoad(deployment, fixture, { rate, durationMs });
  console.log('kill -9:', JSON.stringify(kill.load.probes));
  rollout = await rolloutUnderLoad(deployment, fixture, {
    rate,
    maxDurationMs: Math.max(durationMs, 300_000),
  });
  console.log('rollout:', JSON.stringify(rollout.load.probes));
} finally {
  await deployment.stop();
  rmSync(dir, { recursive: true, force: true });
}

const section = (title: string, r: RunResult) => [
  `## ${title}`,
  '',
  `${r.load.sent} requests over ${(r.load.durationMs / 1000).toFixed(1)} s at ${r.load.rate}/s; ` +
    `latency p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms, max ${r.load.latencyMs.max} ms. ` +
    `Failed: ${r.load.failedIdempotent} idempotent, ${r.load.failedWrites} writes; ` +
    `${r.load.acknowledged.length} writes acknowledged, ${r.lost.length} of them lost.`,
  '',
  '| probe | sent | failed | failures by status or error |',
  '|---|---:|---:|---|',
  ...Object.entries(r.load.probes).map(
    ([name, p]) =>
      `| ${name} | ${p.sent} | ${p.failed} | ${Object.entries(p.failures)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} |`,
  ),
  '',
  `Events (ms from the start): ${r.events.map((e) => `${e.at} ${e.what}`).join('; ')}.`,
  '',
];

writeFileSync(
  values.out!,
  [
    '# Scale-out: replica loss and rolling restart under load',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.split(' ')[0] ?? 'CPU'}, Node ${process.versions.node}, ` +
      `\`npm run scaleout -- --duration ${values.duration} --rate ${rate}${values.image ? ` --image ${values.image}` : ''}\` ` +
      `(replicas as ${values.image ? `containers of ${values.image}` : 'processes'}).`,
    `Two replicas each of ${REPLICATED.join(', ')}; one each of users and orders; HAProxy in front; ` +
      `one PostgreSQL and one Redis. Every replica shares the machine's cores with the load generator and HAProxy ` +
      `(1-minute load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after); the deployment took ${(startMs / 1000).toFixed(1)} s to start.`,
    '',
    ...section('kill -9 of one replica of each kind', kill),
    ...section('Rolling restart, one replica of each service at a time', rollout),
  ].join('\n'),
);
console.log(`wrote ${values.out}`);
