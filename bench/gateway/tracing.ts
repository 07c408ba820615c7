/**
 * What tracing costs at the gateway: CPU per proxied request (user + system time of the gateway
 * process over a wrk run, from /proc, divided by the requests served) with tracing off, with the
 * in-process store of `npm start` (every request kept), and exporting over OTLP/HTTP sampled at
 * 10% and at 100%. The four gateways run at once and are measured in turns, round after round,
 * so the load the machine has at a moment falls on each alike; the median of the rounds is
 * reported, with its ratio to tracing off. The OTLP receiver (this process) reads and drops
 * what it is sent; the upstream is a bare node:http server, untraced.
 *
 *   node bench/gateway/tracing.ts        (BENCH_SECONDS=5 per turn, BENCH_ROUNDS=3)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const base = Number(process.env.BENCH_PORT ?? 24100);
const dir = mkdtempSync(join(tmpdir(), 'portico-tracing-'));
const children: ChildProcess[] = [];
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function launch(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [join(root, script)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function up(url: string) {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never came up`);
}

/** One wrk run against `url`; the gateway's CPU seconds per request it served. */
async function turn(pid: number, url: string, duration: number) {
  const before = cpuSeconds(pid);
  const { stdout } = await exec('wrk', ['-t1', '-c50', `-d${duration}s`, url]);
  const cpu = cpuSeconds(pid) - before;
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  return { cpuPerRequest: cpu / requests, rps };
}

// The OTLP/HTTP receiver: reads each export whole, answers 200, keeps a count.
let exports = 0;
let exportedBytes = 0;
const receiver = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => {
    exportedBytes += chunk.length;
  });
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(base + 9, '127.0.0.1');

const modes: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'tracing off (default)', env: {} },
  { name: 'in-process store (npm start), 100%', env: { PORTICO_RECENT_TRACES: '200' } },
  {
    name: 'OTLP/HTTP, sampled 10%',
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${base + 9}`,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    },
  },
  { name: 'OTLP/HTTP, sampled 100%', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${base + 9}` } },
];

writeFileSync(
  join(dir, 'gateway.yaml'),
  `upstreams:\n  bench: { instances: [http://127.0.0.1:${base}] }\nroutes:\n  - { name: p, path: /api, upstream: bench, auth: { default: public } }\n`,
);

const load = () => readFileSync('/proc/loadavg', 'utf8').trim();
try {
  console.log(`load average before: ${load()}`);
  launch('bench/gateway/upstream.ts', { PORT: String(base) });
  await up(`http://127.0.0.1:${base}/`);
  const gateways = modes.map((mode, i) => {
    const port = base + 1 + i;
    const child = launch('services/gateway/src/main.ts', {
      GATEWAY_PORT: String(port),
      GATEWAY_OPERATOR_PORT: String(base + 11 + i),
      GATEWAY_FILE: join(dir, 'gateway.yaml'),
      GATEWAY_WATCH: 'false',
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
      ...mode.env,
    });
    return {
      ...mode,
      pid: child.pid!,
      url: `http://127.0.0.1:${port}/api/x`,
      runs: [] as number[],
      rps: [] as number[],
    };
  });
  for (const gateway of gateways) {
    await up(gateway.url);
    await turn(gateway.pid, gateway.url, 2); // warm-up: JIT, pools, the exporter's first batches
  }
  for (let round = 0; round < rounds; round++) {
    for (const gateway of gateways) {
      const { cpuPerRequest, rps } = await turn(gateway.pid, gateway.url, seconds);
      gateway.runs.push(cpuPerRequest * 1e6);
      gateway.rps.push(rps);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const offRuns = gateways[0]!.runs;
  const off = median(offRuns);
  // Each round's ratio to tracing off in that same round: the machine's load drifts less within a round.
  const paired = (runs: number[]) => median(runs.map((us, i) => us / offRuns[i]!));
  console.log(
    `\n${'gateway'.padEnd(38)} µs CPU/request (median)  added   ×off   ×off paired   req/s   rounds`,
  );
  for (const gateway of gateways) {
    const us = median(gateway.runs);
    console.log(
      `${gateway.name.padEnd(38)} ${us.toFixed(1).padStart(8)}               ${(us - off).toFixed(1).padStart(6)}  ${(us / off).toFixed(2).padStart(5)}  ${paired(gateway.runs).toFixed(2).padStart(11)}  ${String(Math.round(median(gateway.rps))).padStart(6)}   ${gateway.runs.map((r) => r.toFixed(1)).join(' / ')}`,
    );
  }
  console.log(`\nOTLP exports received: ${exports} (${(exportedBytes / 1e6).toFixed(1)} MB)`);
  console.log(`load average after: ${load()}`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}
