/**
 * The Kubernetes manifests, as each overlay renders them (deploy/kubernetes/render.ts),
 * checked three ways: against the Kubernetes API's schemas (kubernetes-models' validators),
 * against what a production cluster expects (limits, probes, security context, disruption
 * budgets, network policies, migrations before serving, a pinned image), and against the
 * code — every variable a manifest sets is one the service reads, ports and commands match
 * the services, and the files they mount pass the services' own validation.
 * Where kubectl is installed, its Kustomize renders the same objects.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '@portico/config';
import { loadGatewayFile } from '@portico/gateway/config';
import { ConfigSchema as IdentitySchema } from '@portico/identity/config';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_PORTS } from '../../../deploy/image/ports.ts';
import { type K8sObject as Doc, parseImage, render } from '../../../deploy/kubernetes/render.ts';
import { services } from '../src/services.ts';

const root = join(import.meta.dirname, '../../..');
const temp = mkdtempSync(join(tmpdir(), 'portico-deploy-'));
after(() => rmSync(temp, { recursive: true, force: true }));
const overlays = join(root, 'deploy/kubernetes/overlays');
const TAG = 'portico:0123456789ab';

/** Every environment variable a config schema reads (its `env` annotations), with its default. */
function envNames(node: Doc, out = new Map<string, unknown>()): Map<string, unknown> {
  for (const child of Object.values(node?.properties ?? {}) as Doc[]) {
    if (child.env) out.set(child.env, child.default);
    else envNames(child, out);
  }
  return out;
}

/** The Kubernetes API's schema for an object, from kubernetes-models (no network). */
async function validate(object: Doc): Promise<void> {
  const models = await import(`kubernetes-models/${object.apiVersion}`);
  const Model = models[object.kind];
  assert.ok(Model, `no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

const matches = (selector: Doc, labels: Record<string, string>): boolean =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every(
    (e: Doc) => e.operator === 'In' && e.values.includes(labels[e.key]),
  );

for (const overlay of readdirSync(overlays)) {
  describe(`deploy/kubernetes/overlays/${overlay}`, () => {
    const docs = render(join(overlays, overlay), { images: [parseImage(`portico=${TAG}`)] });
    const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
    const named = (kind: string, name: string) => byKind(kind).find((d) => d.metadata.name === name)!;
    const configMap = (name: string) => named('ConfigMap', name).data;
    const shared = configMap('portico-env');
    const podOf = (name: string) => named('Deployment', name).spec.template;

    test('every object passes the Kubernetes API schema', async () => {
      assert.ok(docs.length > 30, `${docs.length} objects`);
      for (const object of docs) {
        await assert.doesNotReject(validate(object), `${object.kind}/${object.metadata.name}`);
      }
      // The validator catches wrong types and shapes (a quantity, a port, a missing field).
      const broken = structuredClone(named('Deployment', 'gateway'));
      broken.spec.template.spec.containers[0].resources.limits.memory = 'lots';
      await assert.rejects(validate(broken), /quantity/);
    });

    test('one Deployment, Service and PodDisruptionBudget per service, on its port, with its argument', () => {
      const deployable = services.map((s) => s.name).sort();
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget']) {
        assert.deepEqual(
          byKind(kind)
            .map((d) => d.metadata.name)
            .sort(),
          deployable,
          kind,
        );
      }
      for (const { name, module } of services) {
        const [container] = podOf(name).spec.containers;
        assert.equal(container.image, TAG, 'the image tag the build pinned');
        assert.deepEqual(container.args, [name], 'the image’s entry point runs the service it is given');
        assert.ok(existsSync(join(root, `services/${name}/src/main.ts`)));
        const port = envNames(module.ConfigSchema).get(`${name.toUpperCase()}_PORT`);
        assert.equal(container.ports[0].containerPort, port, name);
        assert.equal(DEFAULT_PORTS[name], port, 'the image’s health check knows the port');
        assert.equal(named('Service', name).spec.ports[0].port, port, name);
        const budget = named('PodDisruptionBudget', name).spec;
        assert.ok(matches(budget.selector, podOf(name).metadata.labels), `the budget covers ${name}`);
        assert.equal(budget.maxUnavailable, 1);
      }
    });

    test('what a production cluster expects of every pod', () => {
      for (const { name } of services) {
        const pod = podOf(name).spec;
        assert.equal(pod.securityContext.runAsNonRoot, true, name);
        assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', name);
        assert.equal(pod.automountServiceAccountToken, false, name);
        assert.deepEqual(
          pod.topologySpreadConstraints.map((c: Doc) => c.topologyKey),
          ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'],
        );
        for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
          const where = `${name}/${container.name}`;
          assert.equal(container.image, TAG, where);
          assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          assert.ok(container.resources.requests.cpu && container.resources.requests.memory, where);
          assert.ok(container.resources.limits.memory, where);
          assert.ok(
            container.volumeMounts.some((m: Doc) => m.mountPath === '/tmp'),
            `${where}: a writable /tmp`,
          );
        }
        const [main] = pod.containers;
        assert.equal(main.readinessProbe.httpGet.path, '/health', name);
        assert.equal(main.startupProbe.httpGet.path, '/health', name);
        assert.ok(main.livenessProbe.tcpSocket, `${name}: liveness does not depend on the database`);
      }
    });

    test('the operator port: declared, bound for the pod network, scraped, and in no Service or Ingress', () => {
      const servicePorts = byKind('Service').flatMap((d) =>
        d.spec.ports.flatMap((p: Doc) => [p.name, p.port, p.targetPort]),
      );
      for (const { name, module } of services) {
        const NAME = name.toUpperCase();
        const pod = podOf(name);
        const [container] = pod.spec.containers;
        const declared = container.ports.find((p: Doc) => p.name === 'operator');
        const port = envNames(module.ConfigSchema).get(`${NAME}_OPERATOR_PORT`);
        assert.equal(declared?.containerPort, port, `${name} declares its operator port`);
        const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value]));
        assert.equal(
          env[`${NAME}_OPERATOR_HOST`],
          '0.0.0.0',
          `${name}: Prometheus reaches it from another pod`,
        );
        assert.deepEqual(pod.metadata.annotations, {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(port),
          'prometheus.io/path': '/metrics',
        });
        for (const value of ['operator', port])
          assert.ok(!servicePorts.includes(value), `no Service exposes ${name}'s operator port (${value})`);
        for (const probe of [container.readinessProbe, container.startupProbe, container.livenessProbe]) {
          assert.equal(
            (probe.httpGet ?? probe.tcpSocket).port,
            'http',
            `${name} is probed on its public port`,
          );
        }
      }
      // The Ingress sends traffic only to Services' public ports.
      const ingress = named('Ingress', 'portico').spec;
      for (const rule of ingress.rules) {
        for (const { backend } of rule.http.paths) {
          const service = named('Service', backend.service.name);
          assert.deepEqual(
            service.spec.ports.map((p: Doc) => p.name),
            [backend.service.port.name],
            rule.host,
          );
        }
      }
    });

    test('trusted proxies: one hop in front of the gateway, the console and identity', () => {
      const env = (name: string) =>
        Object.fromEntries(podOf(name).spec.containers[0].env.map((e: Doc) => [e.name, e.value]));
      // The ingress and the console each write the visitor as the rightmost X-Forwarded-For entry.
      assert.equal(env('gateway').GATEWAY_TRUSTED_PROXIES, '1');
      assert.equal(env('web').WEB_TRUSTED_PROXIES, '1');
      const identity = loadConfig('identity', IdentitySchema, {
        env: {},
        file: writeTemp('identity-proxies.yaml', configMap('portico-identity')['identity.yaml']),
      });
      assert.equal(identity.trustProxy, true);
      assert.equal(
        identity.proxyHops,
        1,
        'ingress → identity, and ingress → gateway → identity, are one hop',
      );
      assert.equal(identity.trustedProxies, '');
    });

    test('migrations run in an init container, with the service’s own configuration', () => {
      for (const { name, module } of services) {
        const pod = podOf(name).spec;
        if (!envNames(module.ConfigSchema).has('DATABASE_URL')) {
          assert.equal(pod.initContainers, undefined, name);
          continue;
        }
        const [init] = pod.initContainers;
        assert.deepEqual(init.args, ['migrate', name]);
        assert.deepEqual(init.env, pod.containers[0].env, name);
        assert.deepEqual(
          init.volumeMounts,
          pod.containers[0].volumeMounts,
          `${name}: the init container reads the same files`,
        );
      }
    });

    test('network policies: deny by default; the ingress reaches only the edge, the gateway the services, monitoring the operator ports', () => {
      const policies = byKind('NetworkPolicy');
      const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0)!;
      assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
      assert.equal(deny.spec.ingress, undefined);
      const labels = (name: string) => podOf(name).metadata.labels;
      const namespaces: Record<string, string> = { ingress: 'ingress-nginx', monitoring: 'monitoring' };
      /**
       * May traffic from `from` (a service, or the ingress controller's or monitoring's namespace)
       * reach service `to` on its container port named `port`?
       */
      const allowed = (from: string, to: string, port = 'http') =>
        policies.some(
          (p) =>
            p.spec.policyTypes.includes('Ingress') &&
            matches(p.spec.podSelector, labels(to)) &&
            (p.spec.ingress ?? []).some(
              (rule: Doc) =>
                (rule.ports === undefined || rule.ports.some((r: Doc) => r.port === port)) &&
                rule.from.some((peer: Doc) =>
                  from in namespaces
                    ? peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ===
                      namespaces[from]
                    : peer.podSelector && !peer.namespaceSelector && matches(peer.podSelector, labels(from)),
                ),
            ),
        );
      const names = services.map((s) => s.name);
      const reach = (from: string, port = 'http') =>
        names.filter((to) => to !== from && allowed(from, to, port));
      assert.deepEqual(reach('ingress'), ['identity', 'gateway', 'web']);
      assert.deepEqual(reach('web'), ['identity', 'gateway']);
      assert.deepEqual(reach('gateway'), ['identity', 'catalog', 'users', 'orders', 'payments']);
      assert.deepEqual(reach('users'), ['identity']);
      assert.deepEqual(reach('catalog'), ['identity'], 'recommendations hear orders on pub/sub');
      assert.deepEqual(reach('orders'), ['identity', 'catalog'], 'orders check stock');
      assert.deepEqual(reach('payments'), ['identity', 'orders'], 'payments mark orders paid');
      assert.deepEqual(reach('monitoring'), [], 'monitoring reads no public port');
      // The operator port: from the monitoring namespace only, to every service.
      assert.deepEqual(reach('monitoring', 'operator'), names);
      for (const from of ['ingress', ...names])
        assert.deepEqual(reach(from, 'operator'), [], `${from} cannot reach an operator port`);
      const egress = policies.find((p) => p.metadata.name === 'egress')!.spec.egress;
      const ports = egress.flatMap((rule: Doc) => (rule.to ? [] : rule.ports.map((p: Doc) => p.port)));
      assert.deepEqual(ports.sort(), [53, 53, 5432, 6379], 'DNS, PostgreSQL and Redis');
    });

    test('every variable a manifest sets is one its service reads; GraphiQL and introspection are off', () => {
      for (const { name, module } of services) {
        const known = envNames(module.ConfigSchema);
        known.set(`${name.toUpperCase()}_CONFIG_FILE`, undefined); // read by runService
        for (const { name: variable } of podOf(name).spec.containers[0].env)
          assert.ok(known.has(variable), `${name} does not read ${variable}`);
        assert.ok(known.has(`${name.toUpperCase()}_HOST`));
      }
      const readBySomeone = new Set(
        services.flatMap(({ module }) => [...envNames(module.ConfigSchema).keys()]),
      );
      for (const key of Object.keys(shared)) assert.ok(readBySomeone.has(key), `no service reads ${key}`);
      const catalog = Object.fromEntries(
        podOf('catalog').spec.containers[0].env.map((e: Doc) => [e.name, e.value]),
      );
      assert.equal(catalog.GRAPHQL_GRAPHIQL, 'false');
      assert.equal(catalog.GRAPHQL_INTROSPECTION, 'false');
      assert.equal(catalog.CATALOG_DEMO_DATA, 'false');
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

    test('the identity file passes the identity service’s validation and agrees with the verifiers and hosts', () => {
      const config = loadConfig('identity', IdentitySchema, {
        env: {},
        file: writeTemp('identity.yaml', configMap('portico-identity')['identity.yaml']),
      });
      assert.equal(config.issuer, shared.AUTH_ISSUER);
      assert.equal(config.api.audience, shared.AUTH_AUDIENCE);
      assert.equal(config.demoAccounts, false);
      const web = config.clients.find((c) => c.client_id === 'portico-web')!;
      const env = Object.fromEntries(podOf('web').spec.containers[0].env.map((e: Doc) => [e.name, e.value]));
      assert.deepEqual(web.redirect_uris, [`${env.WEB_PUBLIC_URL}/callback`]);
      assert.equal(env.WEB_OIDC_ISSUER, config.issuer);
      const ingress = named('Ingress', 'portico').spec;
      const hosts = ingress.rules.map((r: Doc) => r.host);
      assert.deepEqual(ingress.tls[0].hosts, hosts);
      for (const url of [config.issuer, env.WEB_PUBLIC_URL, config.api.audience])
        assert.ok(hosts.includes(new URL(url).host), url);
    });

    const kubectl = spawnSync('kubectl', ['kustomize', join(overlays, overlay)], { encoding: 'utf8' });
    test('kubectl’s Kustomize renders the same objects', {
      skip: kubectl.error ? 'kubectl is not installed' : false,
    }, () => {
      assert.equal(kubectl.status, 0, kubectl.stderr);
      const theirs = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as Doc);
      const key = (o: Doc) => `${o.kind}/${o.metadata.name}`;
      const sorted = (list: Doc[]) =>
        list
          .map((o) => JSON.parse(JSON.stringify(o).replace(/"image":"[^"]*"/g, '"image":"-"')))
          .sort((a, b) => key(a).localeCompare(key(b)));
      assert.deepEqual(sorted(docs), sorted(theirs));
    });
  });
}

describe('deploy/kubernetes/render.ts', () => {
  test('an image without a pinned tag is refused', () => {
    assert.throws(
      () => render(join(overlays, 'production')),
      /image registry\.example\.com\/portico has no tag/,
    );
    const pinned = render(join(overlays, 'production'), {
      images: [parseImage('portico=registry.example.com/portico:3f2a9c1d0e4b')],
    });
    const images = new Set(
      pinned.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).map((c: Doc) => c.image)),
    );
    assert.deepEqual([...images], ['registry.example.com/portico:3f2a9c1d0e4b']);
  });
});

function writeTemp(name: string, text: string): string {
  const path = join(temp, name);
  writeFileSync(path, text);
  return path;
}
