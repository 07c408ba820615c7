/**
 * The dashboards and alerts in deploy/observability name only metrics the services export:
 * every service is built from its own module (embedded SQLite), each operator port's /metrics
 * is scraped, and every PromQL expression of the alert rules and of the Grafana dashboard
 * (panel targets and template-variable queries) is parsed with Prometheus's own grammar
 * (@prometheus-io/lezer-promql, the one the Prometheus UI uses). Each metric selector's name
 * must be one some service exposes. With `promtool` on PATH (Debian's `prometheus` package;
 * .ci/run installs it) the rules also pass `promtool check rules`, and `promtool test rules`
 * runs alerts.test.yaml: each alert fires on the series that should raise it.
 *
 * Grafana's variables are not PromQL: `$__rate_interval` and its kin become `5m`, any other
 * `$name` or `${name}` becomes `x` (they sit only in durations and label matcher values here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DeepPartial, loadConfig, type TSchema } from '@portico/config';
import type { ServiceModule } from '@portico/http';
import { freePort } from '@portico/http/testing';
import { createMemoryPubSub } from '@portico/store/pubsub';
import { parser } from '@prometheus-io/lezer-promql';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { services } from '../src/services.ts';

const DIR = join(import.meta.dirname, '../../../deploy/observability');
const RULES = join(DIR, 'alerts.yaml');
const RULE_TESTS = join(DIR, 'alerts.test.yaml');
const DASHBOARD = join(DIR, 'grafana-dashboard.json');
const NAMES = ['identity', 'users', 'catalog', 'orders', 'payments', 'gateway', 'web'] as const;
type Name = (typeof NAMES)[number];

interface Expression {
  where: string;
  expr: string;
}

/** The metric names a PromQL expression selects; throws on anything the grammar refuses. */
function metricNames(expr: string): string[] {
  const promql = expr.replace(/\$__\w+/g, '5m').replace(/\$\{\w+\}|\$\w+/g, 'x');
  const names = new Set<string>();
  const errors: string[] = [];
  parser.parse(promql).iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`at ${node.from}: ${JSON.stringify(promql.slice(node.from, node.from + 30))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.add(promql.slice(node.from, node.to));
      }
    },
  });
  if (errors.length) throw new Error(`not PromQL (${errors.join('; ')}): ${expr}`);
  return [...names];
}

/** Every metric name in a Prometheus text exposition, histograms' and summaries' series included. */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
    } else if (line && !line.startsWith('#')) {
      names.add(line.split(/[{ ]/, 1)[0]!);
    }
  }
  return names;
}

function ruleExpressions(): Expression[] {
  const file = parseYaml(readFileSync(RULES, 'utf8')) as {
    groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
  };
  return file.groups.flatMap((group) =>
    group.rules.map((rule) => ({
      where: `alerts.yaml ${rule.alert ?? rule.record}`,
      expr: String(rule.expr),
    })),
  );
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function dashboardExpressions(): Expression[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
  };
  const found: Expression[] = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) found.push({ where: `dashboard panel "${panel.title}"`, expr: target.expr });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    // label_values(<selector>, <label>) is Grafana's, not PromQL: its selector is.
    const selector = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1] ?? query;
    found.push({ where: `dashboard variable $${variable.name}`, expr: selector });
  }
  return found;
}

describe('dashboards and alerts name only exported metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-dashboards-'));
  const running = new Map<Name, FastifyInstance>();
  const ports = {} as Record<Name, number>;
  const url = (name: Name) => `http://127.0.0.1:${ports[name]}`;
  const operators = new Map<Name, string>();
  const bus = createMemoryPubSub();

  async function start(name: Name, overrides: DeepPartial<Record<string, unknown>>) {
    const module = services.find((s) => s.name === name)!.module as ServiceModule<TSchema>;
    const config = loadConfig(name, module.ConfigSchema, {
      env: {},
      overrides: {
        port: ports[name],
        logLevel: 'silent',
        ...(name === 'gateway' ? {} : { databaseUrl: `sqlite:${join(dir, `${name}.db`)}` }),
        ...overrides,
      } as never,
    });
    const build = module.build as (config: unknown, deps: object) => Promise<FastifyInstance>;
    const server = await build(config, { pubsub: bus });
    running.set(name, server);
    await server.listen({ port: ports[name], host: '127.0.0.1' });
    operators.set(name, await server.operator.listen({ port: 0, host: '127.0.0.1' }));
  }

  before(async () => {
    for (const name of NAMES) ports[name] = await freePort();
    const issuer = url('identity');
    const auth = { issuer, audience: 'http://localhost:8000', jwksUri: `${issuer}/jwks` };
    const serviceSecret = randomUUID();
    const webSecret = randomUUID();
    await start('identity', {
      issuer,
      keysFile: '',
      demoLoginsFile: '',
      clientSecrets: { web: webSecret, service: serviceSecret },
    });
    await start('users', { auth });
    await start('catalog', { auth });
    await start('orders', { auth, catalog: { url: url('catalog') } });
    await start('payments', {
      auth,
      orders: { url: url('orders') },
      serviceClient: { tokenUrl: `${issuer}/token`, clientSecret: serviceSecret },
    });
    const embedded = readFileSync(join(import.meta.dirname, '../../gateway/gateway.yaml'), 'utf8');
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      embedded.replace(/http:\/\/127\.0\.0\.1:(800[1-4])/g, (_, port: string) => {
        const name = ({ '8001': 'users', '8002': 'catalog', '8003': 'orders', '8004': 'payments' } as const)[
          port as '8001'
        ];
        return url(name);
      }),
    );
    await start('gateway', { file, watch: false, auth });
    await start('web', {
      publicUrl: url('web'),
      gatewayUrl: url('gateway'),
      oidc: { issuer, clientSecret: webSecret },
    });
    // Traffic through the gateway, so its per-route series exist beside the declared ones.
    await (await fetch(`${url('gateway')}/api/v1/products`)).text();
  });

  after(async () => {
    for (const name of [...NAMES].reverse()) await running.get(name)?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function exportedByAny(): Promise<Map<string, Set<Name>>> {
    const byMetric = new Map<string, Set<Name>>();
    for (const [name, operator] of operators) {
      const res = await fetch(`${operator}/metrics`);
      assert.equal(res.status, 200, `${name} /metrics`);
      for (const metric of exposed(await res.text())) {
        if (!byMetric.has(metric)) byMetric.set(metric, new Set());
        byMetric.get(metric)!.add(name);
      }
    }
    return byMetric;
  }

  test('every service exports its request histogram, dependency checks and process metrics', async () => {
    const exported = await exportedByAny();
    for (const metric of [
      'http_request_duration_seconds_bucket',
      'process_cpu_seconds_total',
      'health_check_up',
    ]) {
      assert.deepEqual([...(exported.get(metric) ?? [])].sort(), [...NAMES].sort(), metric);
    }
    const res = await fetch(`${operators.get('catalog')}/metrics`);
    assert.match(await res.text(), /^health_check_up\{check="database",service="catalog"\} 1$/m);
  });

  test('every metric an alert rule or a dashboard panel names is exported by some service', async () => {
    const exported = await exportedByAny();
    const expressions = [...ruleExpressions(), ...dashboardExpressions()];
    assert.ok(expressions.length >= 30, `found ${expressions.length} expressions`);
    const missing: string[] = [];
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where} names no metric: ${expr}`);
      for (const name of names) if (!exported.has(name)) missing.push(`${where}: ${name}`);
    }
    assert.deepEqual(missing, []);
  });

  test('the extraction catches a name no service exports, and refuses what is not PromQL', async () => {
    const exported = await exportedByAny();
    const names = metricNames(
      'sum by (route) (rate(gateway_ratelimit_decisions_total{decision="$d"}[$__rate_interval])) / gateway_ratelimit_rejections_total',
    );
    assert.deepEqual(names, ['gateway_ratelimit_decisions_total', 'gateway_ratelimit_rejections_total']);
    assert.deepEqual(
      names.filter((name) => !exported.has(name)),
      ['gateway_ratelimit_rejections_total'],
    );
    assert.throws(() => metricNames('sum by (route (rate(x[5m]))'), /not PromQL/);
  });

  test('promtool accepts the alert rules, and each alert fires on its unit-test series', (t) => {
    const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (which.error) {
      assert.ok(!process.env.CI, "promtool must be on PATH in CI (.ci/run installs Debian's prometheus)");
      t.skip('promtool is not on PATH (Debian: apt-get install prometheus); the rules were not checked');
      return;
    }
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
    const unit = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    assert.equal(unit.status, 0, `${unit.stdout}${unit.stderr}`);
  });
});
