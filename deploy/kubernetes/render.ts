/**
 * Renders a Kustomize directory (deploy/kubernetes/overlays/<name>) to the manifests to
 * apply, without kubectl: `kubectl kustomize` gives the same objects (the deployment test
 * compares the two where kubectl is installed). It implements the part of Kustomize these
 * overlays use — `resources`, `namespace`, `images`, `replicas`, and strategic-merge
 * `patches` — and refuses any other field rather than ignore it.
 *
 *   node deploy/kubernetes/render.ts deploy/kubernetes/overlays/production --image portico=registry.example.com/portico:3f2a9c1d0e4b
 *
 * `--image NAME=REF` is `kustomize edit set image`: the build pins the tag it built. An image
 * left without a tag or digest is an error, so `latest` never reaches a cluster.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped YAML here
export type K8sObject = Record<string, any>;

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'replicas', 'patches']);
/** Strategic merge keys of the lists these manifests patch (the API's `x-kubernetes-patch-merge-key`). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

export function render(dir: string, options: { images?: ImageRule[] } = {}): K8sObject[] {
  const objects = build(resolve(dir), options.images ?? []);
  for (const object of objects) {
    for (const container of containersOf(object)) {
      const ref = container.image as string;
      if (!/(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(ref.slice(ref.lastIndexOf('/') + 1))) {
        throw new Error(
          `${object.kind}/${object.metadata.name}: image ${ref} has no tag; pass --image NAME=IMAGE:TAG (the tag deploy/image/build.sh printed)`,
        );
      }
    }
  }
  return objects;
}

/** `overrides` replace the top kustomization's image rules of the same name, as `kustomize edit set image` does. */
function build(dir: string, overrides: ImageRule[] = []): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const kustomization = parseYaml(readFileSync(file, 'utf8')) as K8sObject;
  for (const key of Object.keys(kustomization)) {
    if (!KNOWN.has(key)) throw new Error(`${file}: ${key} is not supported by this renderer`);
  }
  const objects: K8sObject[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) objects.push(...build(path));
    else objects.push(...readObjects(path));
  }
  for (const patch of kustomization.patches ?? []) {
    if (patch.target)
      throw new Error(`${file}: patch targets are not supported; name the object in the patch`);
    const text = patch.path ? readFileSync(join(dir, patch.path), 'utf8') : patch.patch;
    for (const doc of parseAllDocuments(text)) applyPatch(objects, doc.toJS(), file);
  }
  for (const { name, count } of kustomization.replicas ?? []) {
    const target = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
    if (!target) throw new Error(`${file}: replicas for ${name}, which is not a Deployment here`);
    target.spec.replicas = count;
  }
  const images: ImageRule[] = kustomization.images ?? [];
  for (const rule of overrides) {
    const own = images.find((r) => r.name === rule.name);
    if (own) Object.assign(own, rule);
    else images.push(rule);
  }
  for (const rule of images) setImage(objects, rule);
  if (kustomization.namespace) {
    for (const object of objects) object.metadata.namespace = kustomization.namespace;
  }
  return objects;
}

function readObjects(path: string): K8sObject[] {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function applyPatch(objects: K8sObject[], patch: K8sObject, file: string) {
  const target = objects.find(
    (o) =>
      o.kind === patch.kind && o.metadata.name === patch.metadata?.name && o.apiVersion === patch.apiVersion,
  );
  if (!target)
    throw new Error(`${file}: the patch for ${patch.kind}/${patch.metadata?.name} matches nothing`);
  merge(target, patch);
}

/** Strategic merge: maps merge, lists with a merge key merge by it, other lists are replaced. */
function merge(target: K8sObject, patch: K8sObject) {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    const mergeKey = MERGE_KEYS[key];
    if (value === null) delete target[key];
    else if (Array.isArray(value) && Array.isArray(current) && mergeKey) {
      // As kubectl's Kustomize orders them: the patch's items (merged) first, then the others.
      const patched = value.map((item: K8sObject) => {
        const existing = current.find((c: K8sObject) => c[mergeKey] === item[mergeKey]);
        if (!existing) return item;
        merge(existing, item);
        return existing;
      });
      target[key] = [...patched, ...current.filter((c: K8sObject) => !patched.includes(c))];
    } else if (isMap(value) && isMap(current)) merge(current, value);
    else target[key] = value;
  }
}

function setImage(objects: K8sObject[], rule: ImageRule) {
  for (const container of objects.flatMap(containersOf)) {
    const ref = container.image as string;
    const name = ref.replace(/@.*$/, '').replace(/:[\w.-]+$/, '');
    if (name !== rule.name) continue;
    const tag = rule.digest ? `@${rule.digest}` : rule.newTag ? `:${rule.newTag}` : ref.slice(name.length);
    container.image = `${rule.newName ?? name}${tag}`;
  }
}

function containersOf(object: K8sObject): K8sObject[] {
  const spec = object.spec?.template?.spec ?? object.spec?.jobTemplate?.spec?.template?.spec;
  return spec ? [...(spec.initContainers ?? []), ...(spec.containers ?? [])] : [];
}

function isMap(value: unknown): value is K8sObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `portico=registry.example.com/portico:abc` → the rule `kustomize edit set image` writes. */
export function parseImage(arg: string): ImageRule {
  const [name, ref] = arg.split('=', 2);
  if (!name || !ref) throw new Error(`--image ${arg}: expected NAME=IMAGE:TAG`);
  const digest = ref.match(/@(sha256:[0-9a-f]{64})$/)?.[1];
  const base = ref.replace(/@.*$/, '');
  const tag = base.match(/:([\w.-]+)$/)?.[1];
  const newName = tag ? base.slice(0, -tag.length - 1) : base;
  return { name, newName, ...(tag ? { newTag: tag } : {}), ...(digest ? { digest } : {}) };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const images: ImageRule[] = [];
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--image') images.push(parseImage(args[++i] ?? ''));
    else dir = args[i];
  }
  if (!dir) {
    console.error('usage: node deploy/kubernetes/render.ts DIR [--image NAME=IMAGE:TAG ...]');
    process.exit(64);
  }
  try {
    const out = render(dir, { images }).map((o) => stringify(o, { lineWidth: 0 }));
    process.stdout.write(out.join('---\n'));
  } catch (err) {
    console.error(`render: ${(err as Error).message}`);
    process.exit(1);
  }
}
