/**
 * The deployment files can't be applied here (no cluster, no Docker engine), so this
 * keeps them honest against the code instead: every variable a manifest sets is one the
 * service reads, ports and commands match the services, the files they mount pass the
 * services' own validation, and the image copies every workspace.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '@portico/config';
import { loadGatewayFile } from '@portico/gateway/config';
import { ConfigSchema as IdentitySchema } from '@portico/identity/config';
import { parseAllDocuments } from 'yaml';
import { services } from '../src/services.ts';

const root = join(import.meta.dirname, '../../..');
const temp = mkdtempSync(join(tmpdir(), 'portico-deploy-'));
after(() => rmSync(temp, { recursive: true, force: true }));
const dir = join(root, 'deploy/kubernetes');
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
type Doc = any;
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
  .filter(Boolean);
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const configMap = (name: string) => byKind('ConfigMap').find((d) => d.metadata.name === name)!.data;

/** Every environment variable a config schema reads (its `env` annotations), with its default. */
function envNames(node: Doc, out = new Map<string, unknown>()): Map<string, unknown> {
  for (const child of Object.values(node?.properties ?? {}) as Doc[]) {
    if (child.env) out.set(child.env, child.default);
    else envNames(child, out);
  }
  return out;
}

describe('deploy/kubernetes', () => {
  const shared = configMap('portico-env');

  test('one Deployment and one Service per service, on the service’s own port and command', () => {
    const deployable = services.map((s) => s.name).sort();
    assert.deepEqual(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
      deployable,
    );
    assert.deepEqual(
      byKind('Service')
        .map((d) => d.metadata.name)
        .sort(),
      deployable,
    );
    for (const { name, module } of services) {
      const deployment = byKind('Deployment').find((d) => d.metadata.name === name);
      const [container] = deployment.spec.template.spec.containers;
      assert.deepEqual(container.command, ['node', `services/${name}/src/main.ts`]);
      assert.ok(existsSync(join(root, container.command[1])), container.command[1]);
      const port = envNames(module.ConfigSchema).get(`${name.toUpperCase()}_PORT`);
      assert.equal(container.ports[0].containerPort, port, name);
      assert.equal(container.readinessProbe.httpGet.path, '/health');
      const service = byKind('Service').find((d) => d.metadata.name === name);
      assert.equal(service.spec.ports[0].port, port, name);
    }
  });

  test('every variable a manifest sets is one its service reads', () => {
    for (const { name, module } of services) {
      const known = envNames(module.ConfigSchema);
      known.set(`${name.toUpperCase()}_CONFIG_FILE`, undefined); // read by runService
      const [container] = byKind('Deployment').find((d) => d.metadata.name === name).spec.template.spec
        .containers;
      for (const { name: variable } of container.env)
        assert.ok(known.has(variable), `${name} does not read ${variable}`);
      assert.ok(known.has(`${name.toUpperCase()}_HOST`));
    }
    const readBySomeone = new Set(
      services.flatMap(({ module }) => [...envNames(module.ConfigSchema).keys()]),
    );
    for (const key of Object.keys(shared)) assert.ok(readBySomeone.has(key), `no service reads ${key}`);
  });

  test('the gateway file passes the gateway’s own validation and routes to the Services', () => {
    const file = loadGatewayFile(writeTemp('gateway.yaml', configMap('portico-gateway')['gateway.yaml']));
    const names = new Set(byKind('Service').map((d) => d.metadata.name));
    for (const upstream of Object.values(file.upstreams)) {
      for (const instance of upstream.instances) assert.ok(names.has(new URL(instance).hostname), instance);
    }
    const embedded = loadGatewayFile(join(root, 'services/gateway/gateway.yaml'));
    assert.deepEqual(
      file.routes.map((r) => r.name),
      embedded.routes.map((r) => r.name),
      'the cluster routes the same paths as the embedded default',
    );
  });

  test('the identity file passes the identity service’s validation and agrees with the verifiers', async () => {
    const config = loadConfig('identity', IdentitySchema, {
      env: {},
      file: writeTemp('identity.yaml', configMap('portico-identity')['identity.yaml']),
    });
    assert.equal(config.issuer, shared.AUTH_ISSUER);
    assert.equal(config.api.audience, shared.AUTH_AUDIENCE);
    assert.equal(config.demoAccounts, false);
    const web = config.clients.find((c) => c.client_id === 'portico-web')!;
    const console = byKind('Deployment')
      .find((d) => d.metadata.name === 'web')
      .spec.template.spec.containers[0].env.find((e: Doc) => e.name === 'WEB_PUBLIC_URL').value;
    assert.deepEqual(web.redirect_uris, [`${console}/callback`]);
    const hosts = byKind('Ingress')[0].spec.rules.map((r: Doc) => r.host);
    for (const url of [config.issuer, console, config.api.audience])
      assert.ok(hosts.includes(new URL(url).host), url);
  });

  test('the image copies every workspace’s manifest', () => {
    const dockerfile = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
    for (const group of ['packages', 'services']) {
      for (const name of readdirSync(join(root, group))) {
        if (existsSync(join(root, group, name, 'package.json'))) {
          assert.ok(dockerfile.includes(`COPY ${group}/${name}/package.json`), `${group}/${name}`);
        }
      }
    }
  });
});

function writeTemp(name: string, text: string): string {
  const path = join(temp, name);
  writeFileSync(path, text);
  return path;
}
