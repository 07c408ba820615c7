/**
 * `npm run scaleout -- --duration 120s --rate 100 [--containers]`: the scale-out deployment
 * (services/platform/src/scaleout) under longer load than CI runs. The checks across
 * replicas (rate limit, cache purge, subscription), kill -9 of one replica of each kind,
 * then a rolling restart of every replica, drained through HAProxy's runtime API first, and
 * one of the second replicas with SIGTERM alone (HAProxy's checks take each out while it drains).
 * Writes bench/results/scaleout.md.
 * `--containers` runs each replica as a container of the image (`--image`, else
 * PORTICO_IMAGE, else portico:latest; deploy/image/build.sh makes it) instead of a process.
 * `npm run scaleout -- --up` only starts it and prints where everything is, until Ctrl-C.
 * Needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL, or the local defaults).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CachePurgeCheck,
  cachePurgeAcrossGateways,
  type RateLimitCheck,
  rateLimitAcrossGateways,
  type SubscriptionCheck,
  subscriptionAcrossCatalogs,
} from '../../services/platform/src/scaleout/checks.ts';
import { startDeployment } from '../../services/platform/src/scaleout/deployment.ts';
import { dockerLauncher, processLauncher } from '../../services/platform/src/scaleout/launcher.ts';
import {
  killUnderLoad,
  prepare,
  REPLICATED,
  type RunResult,
  rolloutUnderLoad,
  summary,
} from '../../services/platform/src/scaleout/scenarios.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60s' },
    rate: { type: 'string', default: '100' },
    image: { type: 'string' },
    containers: { type: 'boolean', default: false },
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

const image =
  values.image ?? (values.containers ? (process.env.PORTICO_IMAGE ?? 'portico:latest') : undefined);
const dir = mkdtempSync(join(tmpdir(), 'portico-scaleout-'));
const loadBefore = loadavg()[0]!.toFixed(2);
const t0 = Date.now();
const deployment = await startDeployment({
  launcher: image ? dockerLauncher(image, dir) : processLauncher(),
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
      ...deployment.replicas.map(
        (r) =>
          `replica   ${r.name.padEnd(12)} ${deployment.replicaUrl(r.name)}${image ? `  container ${basename(dir)}-${r.name}` : ''}`,
      ),
      `HAProxy   ${dir}/haproxy.cfg, runtime API on ${dir}/haproxy.sock`,
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
let checks: {
  rateLimit: RateLimitCheck;
  cache: CachePurgeCheck;
  subscription: SubscriptionCheck;
  ms: number;
};
let kill: RunResult;
let drained: RunResult;
let terminated: RunResult;
try {
  const fixture = await prepare(deployment);
  const c0 = Date.now();
  checks = {
    rateLimit: await rateLimitAcrossGateways(deployment),
    cache: await cachePurgeAcrossGateways(deployment, fixture),
    subscription: await subscriptionAcrossCatalogs(deployment, fixture),
    ms: 0,
  };
  checks.ms = Date.now() - c0;
  console.log('checks:', JSON.stringify(checks));
  kill = await killUnderLoad(deployment, fixture, { rate, durationMs });
  console.log('kill -9:', summary(kill));
  const maxDurationMs = Math.max(durationMs, 600_000);
  drained = await rolloutUnderLoad(deployment, fixture, { rate, maxDurationMs, drain: 'haproxy' });
  console.log('rollout, drained through HAProxy:', summary(drained));
  // SIGTERM alone, one replica of each service (the second), which is enough to see it.
  terminated = await rolloutUnderLoad(deployment, fixture, {
    rate,
    maxDurationMs,
    drain: 'health-check',
    replicas: [2],
  });
  console.log('rollout, SIGTERM only:', summary(terminated));
} finally {
  await deployment.stop();
  rmSync(dir, { recursive: true, force: true });
}
const totalMs = Date.now() - t0;

const section = (title: string, r: RunResult) => [
  `## ${title}`,
  '',
  `${r.load.sent} requests over ${(r.load.durationMs / 1000).toFixed(1)} s at ${r.load.rate}/s; ` +
    `latency p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms, max ${r.load.latencyMs.max} ms. ` +
    `**Failed: ${r.load.failedIdempotent} idempotent, ${r.load.failedWrites} writes**; ` +
    `${r.load.acknowledged.length} writes acknowledged, ${r.lost.length} of them lost. ` +
    `HAProxy retried ${Object.values(r.retried).reduce((n, b) => n + b.retries, 0)} requests ` +
    `(${
      Object.entries(r.retried)
        .map(([backend, b]) => `${backend} ${b.retries}`)
        .join(', ') || 'none'
    }).`,
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
  ...(r.load.failedAt.length
    ? [`Failed requests by when they were sent: ${failureWindows(r.load.failedAt)}.`, '']
    : []),
];

/** Failed requests counted per 5-second window of the run, the empty windows left out. */
function failureWindows(at: number[]): string {
  const windows = new Map<number, number>();
  for (const ms of at) windows.set(Math.floor(ms / 5000), (windows.get(Math.floor(ms / 5000)) ?? 0) + 1);
  return [...windows]
    .sort(([a], [b]) => a - b)
    .map(([w, n]) => `${w * 5}–${w * 5 + 5} s: ${n}`)
    .join(', ');
}

const { rateLimit, cache, subscription } = checks;
writeFileSync(
  values.out!,
  [
    '# Scale-out: checks across replicas, replica loss and rolling restarts under load',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.split(' ')[0] ?? 'CPU'}, Node ${process.versions.node}, ` +
      `\`npm run scaleout -- --duration ${values.duration} --rate ${rate}${image ? ` --image ${image}` : ''}\` ` +
      `(replicas as ${image ? `containers of ${image}, started by deploy/image/run.sh` : 'processes'}).`,
    `Two replicas each of ${REPLICATED.join(', ')}; one each of users and orders; HAProxy in front; ` +
      `one PostgreSQL and one Redis. Every replica shares the machine's cores with the load generator and HAProxy ` +
      `(1-minute load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after). ` +
      `The deployment took ${(startMs / 1000).toFixed(1)} s to start; the whole run ${(totalMs / 1000).toFixed(0)} s.`,
    '',
    '## Across replicas',
    '',
    '| check | result |',
    '|---|---|',
    `| one rate limit of ${rateLimit.limit}/min over both gateways (alternating) | ${rateLimit.allowed} of ${rateLimit.sent} allowed, ${rateLimit.limited} answered 429${rateLimit.statuses.slice(0, rateLimit.limit).every((s) => s === 200) ? `, the first ${rateLimit.limit} all 200` : ''} |`,
    `| a write through gateway-2 purges gateway-1's cache | gateway-2's read after gateway-1's: X-Cache ${cache.otherGatewayCache}; PATCH ${cache.patchStatus}; gateway-1's next read X-Cache ${cache.afterWriteCache}, price ${cache.priceRead} (written ${cache.price}) in ${cache.ms} ms |`,
    `| an update on catalog-1 reaches a subscriber on catalog-2 | ${subscription.event ? `event with price ${subscription.event.price} (written ${subscription.price}) ${subscription.ms} ms after the write` : 'no event'}; ${subscription.writes} write(s) |`,
    '',
    ...section('kill -9 of one replica of each kind', kill),
    ...section('Rolling restart of every replica, drained through the HAProxy runtime API first', drained),
    ...section(
      "Rolling restart of the second replica of each service, SIGTERM only (HAProxy's checks see /health draining)",
      terminated,
    ),
  ].join('\n'),
);
console.log(`wrote ${values.out}`);
