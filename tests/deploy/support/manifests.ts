// Reads the Kubernetes manifests under deploy/kubernetes and finds what is wrong with them: first against
// Kubernetes' own schemas (kubernetes-models, and KEDA's for its resources), then what no schema can know —
// whether they agree with this repository's code and with each other.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace, ConfigMap, Secret, Service, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { QUEUE_NAME, bullPrefix, describeEnv, loadConfig } from '@gemini-chat/shared';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const MANIFEST_DIR = join(ROOT, 'deploy/kubernetes');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML, checked here field by field */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [key: string]: any }; [key: string]: any };
export interface ManifestFile {
  /** Path under deploy/kubernetes. */
  path: string;
  docs: Manifest[];
}
export interface Kustomization {
  path: string;
  resources: string[];
  images: Array<{ name: string; newName?: string; newTag?: string }>;
}
export interface ManifestSet {
  files: ManifestFile[];
  kustomizations: Kustomization[];
  /** Every file under deploy/kubernetes, kustomizations included. */
  allPaths: string[];
}

/** The files of the repository the manifests depend on; passed in so a test can feed changed copies. */
export interface Sources {
  apiServer: string;
  workerMain: string;
  /** GET paths of the API's committed contract (openapi.json). */
  apiGetPaths: Set<string>;
}

type Validatable = new (data: any) => { validate(): void };
const MODELS: Record<string, Validatable> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/Job': Job,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export function loadManifestSet(dir = MANIFEST_DIR): ManifestSet {
  const allPaths = walk(dir).map((path) => relative(dir, path)).sort();
  const files: ManifestFile[] = [];
  const kustomizations: Kustomization[] = [];
  for (const path of allPaths.filter((p) => /\.ya?ml$/.test(p))) {
    const parsed = parseAllDocuments(readFileSync(join(dir, path), 'utf8'));
    for (const doc of parsed) if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
    const docs = parsed.map((doc) => doc.toJS() as Manifest).filter(Boolean);
    if (path.endsWith('kustomization.yaml')) {
      const k = docs[0] as unknown as { resources?: string[]; images?: Kustomization['images'] };
      kustomizations.push({ path, resources: k.resources ?? [], images: k.images ?? [] });
    } else {
      files.push({ path, docs });
    }
  }
  return { files, kustomizations, allPaths };
}

export function loadSources(): Sources {
  const openapi = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  return {
    apiServer: readFileSync(join(ROOT, 'packages/api/src/server.ts'), 'utf8'),
    workerMain: readFileSync(join(ROOT, 'packages/worker/src/main.ts'), 'utf8'),
    apiGetPaths: new Set(Object.entries(openapi.paths).filter(([, ops]) => 'get' in ops).map(([path]) => path)),
  };
}

const docsOf = (set: ManifestSet) => set.files.flatMap((file) => file.docs.map((doc) => ({ file: file.path, doc })));
const ofKind = (set: ManifestSet, kind: string) => docsOf(set).filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);
const workloads = (set: ManifestSet) => [...ofKind(set, 'Deployment'), ...ofKind(set, 'Job')];
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** Problems Kubernetes' (and KEDA's) own schemas find, one line per document. */
export function schemaProblems(set: ManifestSet): string[] {
  const problems: string[] = [];
  for (const { file, doc } of docsOf(set)) {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (!Model) {
      problems.push(`${file}: no schema known for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      problems.push(`${file}: ${doc.kind} ${doc.metadata?.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** A Secret's values, the placeholders replaced by values of the right shape (as an operator would). */
function filledIn(secret: Manifest): Record<string, string> {
  const values: Record<string, string> = { ...(secret.stringData ?? {}) };
  for (const [key, value] of Object.entries(secret.data ?? {})) values[key] = Buffer.from(String(value), 'base64').toString();
  for (const [key, value] of Object.entries(values)) values[key] = String(value).replace('CHANGE-ME', 'x'.repeat(64));
  return values;
}

/** The environment a container gets: its envFrom sources and its env entries. */
export function environmentOf(set: ManifestSet, container: any, secrets: 'template' | 'filled' = 'filled'): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = ofKind(set, 'ConfigMap').find((m) => m.metadata.name === source.configMapRef.name);
      if (!map) problems.push(`container ${container.name}: no ConfigMap ${source.configMapRef.name}`);
      else for (const [key, value] of Object.entries(map.data ?? {})) env[key] = String(value);
    }
    if (source.secretRef) {
      const secret = ofKind(set, 'Secret').find((s) => s.metadata.name === source.secretRef.name);
      if (!secret) problems.push(`container ${container.name}: no Secret ${source.secretRef.name}`);
      else Object.assign(env, secrets === 'filled' ? filledIn(secret) : { ...(secret.stringData ?? {}) });
    }
  }
  // An env entry wins over envFrom (e.g. the migration Job's direct DATABASE_URL when the processes use a pooler).
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (entry.value !== undefined) {
      env[entry.name] = String(entry.value);
    } else if (ref) {
      const secret = ofKind(set, 'Secret').find((s) => s.metadata.name === ref.name);
      const value = secret ? filledIn(secret)[ref.key] : undefined;
      if (value === undefined) problems.push(`container ${container.name}: env ${entry.name} names Secret ${ref.name} key ${ref.key}, which does not exist`);
      else env[entry.name] = value;
    } else {
      problems.push(`container ${container.name}: env ${entry.name} must be a value or a Secret key`);
    }
  }
  return { env, problems };
}

const podSpecOf = (workload: Manifest) => workload.spec.template.spec;

function parseQuantitySeconds(source: string, pattern: RegExp, what: string): number {
  const match = source.match(pattern);
  if (!match) throw new Error(`cannot find ${what} in the source any more; update the manifest checks`);
  return Number(match[1]!.replace(/_/g, '')) / 1000;
}

/** Everything the manifests must agree on with the code and with each other. */
export function structuralProblems(set: ManifestSet, sources: Sources): string[] {
  const problems: string[] = [];
  const known = new Set(describeEnv().map((entry) => entry.key));
  const deployments = ofKind(set, 'Deployment');
  const component = (name: string) => deployments.find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === name);
  const api = component('api');
  const worker = component('worker');
  if (!api || !worker) return ['there must be one Deployment labelled component=api and one labelled component=worker'];

  // Config: every key given to a process is a setting the config schema knows, and the processes start with it.
  for (const map of [...ofKind(set, 'ConfigMap'), ...ofKind(set, 'Secret')]) {
    if (map.metadata.name === 'gemini-chat-keda-redis') continue; // KEDA's, never given to a container
    for (const key of Object.keys({ ...(map.data ?? {}), ...(map.stringData ?? {}) })) {
      if (!known.has(key)) problems.push(`${map.kind} ${map.metadata.name}: ${key} is not a setting of packages/shared/src/config`);
    }
  }
  for (const workload of workloads(set)) {
    for (const container of podSpecOf(workload).containers) {
      const where = `${workload.kind} ${workload.metadata.name}`;
      for (const source of container.envFrom ?? []) {
        if (source.secretRef?.name === 'gemini-chat-keda-redis') problems.push(`${where}: the KEDA Secret is not app configuration`);
      }
      for (const entry of container.env ?? []) if (!known.has(entry.name)) problems.push(`${where}: env ${entry.name} is not a setting`);
      const { env, problems: envProblems } = environmentOf(set, container);
      problems.push(...envProblems.map((p) => `${where}: ${p}`));
      // Left to their defaults these would point at the pod itself.
      for (const key of ['DATABASE_URL', 'REDIS_URL']) if (!env[key]) problems.push(`${where}: ${key} is not provided`);
      try {
        const config = loadConfig(env);
        if (config.env !== 'production') problems.push(`${where}: NODE_ENV is ${config.env}, not production`);
        const storage = config.files.storage;
        if (storage.driver === 'filesystem') {
          const mounted = (container.volumeMounts ?? []).some((m: any) => m.mountPath === storage.dir);
          // The Job never touches files; the processes write them on a read-only root filesystem.
          if (workload.kind === 'Deployment' && !mounted) problems.push(`${where}: FILES_DIR ${storage.dir} is not a mounted volume`);
        }
        if (workload === worker) {
          const concurrency = config.worker.concurrency;
          const metricsPorts = (container.ports ?? []).filter((p: any) => p.containerPort === config.worker.metricsPort);
          if (metricsPorts.length !== 1) problems.push(`${where}: no container port is WORKER_METRICS_PORT ${config.worker.metricsPort}`);
          problems.push(...scalerProblems(set, config.redis.keyPrefix, concurrency));
        }
        if (workload === api && !(container.ports ?? []).some((p: any) => p.containerPort === config.http.port)) {
          problems.push(`${where}: no container port is PORT ${config.http.port}`);
        }
      } catch (err) {
        problems.push(`${where}: the config is refused: ${(err as Error).message}`);
      }
      const sc = container.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true || sc.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: containers run with a read-only root filesystem and no privilege escalation`);
      }
      if (podSpecOf(workload).securityContext?.runAsNonRoot !== true) problems.push(`${where}: pods run as non-root`);
      const resources = container.resources ?? {};
      if (!resources.requests?.cpu || !resources.requests?.memory || !resources.limits?.memory) {
        problems.push(`${where}: containers request CPU and memory and limit memory`);
      }
    }
  }

  // Probes: the API's point at routes of its contract, on its own port; liveness never depends on Postgres/Redis.
  for (const deployment of [api, worker]) {
    const container = podSpecOf(deployment).containers[0];
    const portNames = new Set((container.ports ?? []).map((p: any) => p.name));
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const probe = container[kind];
      const where = `Deployment ${deployment.metadata.name} ${kind}`;
      if (!probe?.httpGet) {
        problems.push(`${where}: missing (an httpGet probe)`);
        continue;
      }
      if (!portNames.has(probe.httpGet.port)) problems.push(`${where}: port ${probe.httpGet.port} is not a named container port`);
      if (deployment === api && !sources.apiGetPaths.has(probe.httpGet.path)) problems.push(`${where}: GET ${probe.httpGet.path} is not a route of the API`);
      if (kind !== 'readinessProbe' && probe.httpGet.path === '/ready') problems.push(`${where}: /ready depends on Postgres and Redis; an outage would restart every pod`);
    }
  }

  // Termination: the grace period outlasts the preStop sleep plus the process's own shutdown limit.
  const limits = {
    [api.metadata.name]: parseQuantitySeconds(sources.apiServer, /SHUTDOWN_TIMEOUT_MS = ([\d_]+)/, "the API's SHUTDOWN_TIMEOUT_MS"),
    [worker.metadata.name]: parseQuantitySeconds(sources.workerMain, /setTimeout\(\(\) => process\.exit\(1\), ([\d_]+)\)/, "the worker's hard stop"),
  };
  for (const deployment of [api, worker]) {
    const spec = podSpecOf(deployment);
    const preStop = spec.containers[0].lifecycle?.preStop;
    const sleep = preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : (preStop?.sleep?.seconds ?? 0);
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    const needed = sleep + limits[deployment.metadata.name]!;
    if (!(grace > needed)) problems.push(`Deployment ${deployment.metadata.name}: terminationGracePeriodSeconds ${grace} must exceed preStop ${sleep} s + shutdown ${limits[deployment.metadata.name]} s`);
  }
  const apiPreStop = podSpecOf(api).containers[0].lifecycle?.preStop;
  if (!apiPreStop) problems.push('Deployment gemini-chat-api: a preStop sleep lets endpoints drain before SIGTERM');

  // Selectors: each Deployment selects its own pods; Service, budgets and autoscalers find exactly one of them.
  for (const deployment of deployments) {
    if (!labelsMatch(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)) {
      problems.push(`Deployment ${deployment.metadata.name}: selector does not match its pod labels`);
    }
  }
  const selected = (selector: Record<string, string>) => workloads(set).filter((w) => labelsMatch(selector, w.spec.template.metadata.labels));
  for (const service of ofKind(set, 'Service')) {
    const targets = selected(service.spec.selector ?? {});
    if (targets.length !== 1 || targets[0] !== api) problems.push(`Service ${service.metadata.name}: selects ${targets.length} workloads, not the API alone`);
    const portNames = new Set(podSpecOf(api).containers[0].ports.map((p: any) => p.name));
    for (const port of service.spec.ports ?? []) if (!portNames.has(port.targetPort)) problems.push(`Service ${service.metadata.name}: targetPort ${port.targetPort} is not an API port`);
  }
  for (const pdb of ofKind(set, 'PodDisruptionBudget')) {
    const targets = selected(pdb.spec.selector?.matchLabels ?? {});
    if (targets.length !== 1 || targets[0]!.kind !== 'Deployment') problems.push(`PodDisruptionBudget ${pdb.metadata.name}: selects ${targets.length} workloads, not one Deployment`);
  }
  const budgeted = new Set(ofKind(set, 'PodDisruptionBudget').flatMap((pdb) => selected(pdb.spec.selector?.matchLabels ?? {})));
  for (const deployment of deployments) if (!budgeted.has(deployment)) problems.push(`Deployment ${deployment.metadata.name}: no PodDisruptionBudget`);
  const scaled = [...ofKind(set, 'HorizontalPodAutoscaler'), ...ofKind(set, 'ScaledObject')].map((s) => s.spec.scaleTargetRef);
  for (const [ref, deployment] of [[scaled.find((r) => r.name === api.metadata.name), api], [scaled.find((r) => r.name === worker.metadata.name), worker]] as const) {
    if (!ref) problems.push(`Deployment ${deployment.metadata.name}: no autoscaler targets it`);
    else if ((ref.kind ?? 'Deployment') !== 'Deployment' || (ref.apiVersion ?? 'apps/v1') !== 'apps/v1') problems.push(`autoscaler of ${deployment.metadata.name}: targets ${ref.apiVersion} ${ref.kind}`);
  }
  for (const ref of scaled) if (!deployments.some((d) => d.metadata.name === ref.name)) problems.push(`an autoscaler targets ${ref.name}, which is no Deployment`);
  if (scaled.length !== new Set(scaled.map((r) => r.name)).size) problems.push('two autoscalers target the same Deployment');
  for (const deployment of deployments) if (deployment.spec.replicas !== undefined) problems.push(`Deployment ${deployment.metadata.name}: replicas is owned by its autoscaler`);
  // With one replica, a budget of one unavailable pod lets a node drain take the whole component away.
  for (const hpa of ofKind(set, 'HorizontalPodAutoscaler')) if (!((hpa.spec.minReplicas ?? 1) >= 2)) problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: minReplicas below 2`);
  for (const so of ofKind(set, 'ScaledObject')) if (!((so.spec.minReplicaCount ?? 0) >= 2)) problems.push(`ScaledObject ${so.metadata.name}: minReplicaCount below 2`);

  problems.push(...kustomizationProblems(set));
  return problems;
}

/** The worker autoscaler reads BullMQ's lists of this deployment's queue, sized by the worker's concurrency. */
function scalerProblems(set: ManifestSet, keyPrefix: string, concurrency: number): string[] {
  const problems: string[] = [];
  const [scaler] = ofKind(set, 'ScaledObject');
  if (!scaler) return ['no ScaledObject for the worker'];
  const expected: Record<string, string> = { waiting: 'wait', running: 'active' };
  const triggers = (scaler.spec.triggers ?? []) as any[];
  for (const trigger of triggers) {
    const state = expected[trigger.name];
    const key = `${bullPrefix(keyPrefix)}:${QUEUE_NAME}:${state}`;
    if (!state) problems.push(`ScaledObject trigger ${trigger.name}: expected triggers named ${Object.keys(expected).join(' and ')}`);
    else if (trigger.metadata?.listName !== key) problems.push(`ScaledObject trigger ${trigger.name}: listName ${trigger.metadata?.listName} is not BullMQ's ${key}`);
    if (Number(trigger.metadata?.listLength) !== concurrency) problems.push(`ScaledObject trigger ${trigger.name}: listLength is not WORKER_CONCURRENCY ${concurrency}`);
    const auth = ofKind(set, 'TriggerAuthentication').find((a) => a.metadata.name === trigger.authenticationRef?.name);
    if (!auth) problems.push(`ScaledObject trigger ${trigger.name}: no TriggerAuthentication ${trigger.authenticationRef?.name}`);
    for (const ref of auth?.spec.secretTargetRef ?? []) {
      const secret = ofKind(set, 'Secret').find((s) => s.metadata.name === ref.name);
      if (!secret || !(ref.key in (secret.stringData ?? secret.data ?? {}))) problems.push(`TriggerAuthentication: Secret ${ref.name} has no key ${ref.key}`);
    }
  }
  // The schema of KEDA's CRD that the validator has predates scalingModifiers, so it is checked here.
  const modifiers = scaler.spec.advanced?.scalingModifiers;
  const names = new Set(triggers.map((t) => t.name));
  const formulaNames: string[] = modifiers?.formula?.match(/[a-z_]\w*/gi) ?? [];
  if (!modifiers || formulaNames.length === 0 || formulaNames.some((name) => !names.has(name)) || names.size !== formulaNames.length) {
    problems.push('ScaledObject: scalingModifiers.formula must add every trigger (waiting + running)');
  }
  if (modifiers && Number(modifiers.target) !== concurrency) problems.push(`ScaledObject: scalingModifiers.target is not WORKER_CONCURRENCY ${concurrency}`);
  return problems;
}

/** Every manifest is applied by exactly one kustomization, except the Secret template; both name one image. */
function kustomizationProblems(set: ManifestSet): string[] {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const k of set.kustomizations) {
    const base = k.path.includes('/') ? k.path.slice(0, k.path.lastIndexOf('/') + 1) : '';
    for (const resource of k.resources) {
      const path = base + resource;
      if (!set.allPaths.includes(path)) problems.push(`${k.path}: lists ${resource}, which does not exist`);
      if (listed.has(path)) problems.push(`${path} is listed by two kustomizations`);
      listed.add(path);
    }
  }
  for (const file of set.files) {
    if (file.path === 'secret.template.yaml') {
      if (listed.has(file.path)) problems.push('secret.template.yaml is a template and must not be applied');
    } else if (!listed.has(file.path)) {
      problems.push(`${file.path} is in no kustomization`);
    }
  }
  const images = set.kustomizations.map((k) => JSON.stringify(k.images));
  if (new Set(images).size !== 1) problems.push('the kustomizations must set the same image');
  const imageNames = new Set(set.kustomizations.flatMap((k) => k.images.map((i) => i.name)));
  for (const workload of workloads(set)) {
    for (const container of podSpecOf(workload).containers) {
      if (!imageNames.has(container.image)) problems.push(`${workload.kind} ${workload.metadata.name}: image ${container.image} is not the one the kustomizations set`);
    }
  }
  return problems;
}

/** Every problem with the manifests: schemas first, then agreement with the code. */
export function manifestProblems(set: ManifestSet, sources: Sources): string[] {
  return [...schemaProblems(set), ...structuralProblems(set, sources)];
}

/** The HTTP probes of a Deployment, for checking them against the running process. */
export function httpProbes(set: ManifestSet, component: 'api' | 'worker'): Array<{ kind: string; path: string }> {
  const deployment = ofKind(set, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component);
  const container = deployment ? podSpecOf(deployment).containers[0] : {};
  return ['startupProbe', 'livenessProbe', 'readinessProbe'].flatMap((kind) => (container[kind]?.httpGet ? [{ kind, path: container[kind].httpGet.path as string }] : []));
}

/** The list names the worker autoscaler reads. */
export function scalerListNames(set: ManifestSet): Record<string, string> {
  const [scaler] = ofKind(set, 'ScaledObject');
  return Object.fromEntries(((scaler?.spec.triggers ?? []) as any[]).map((t) => [t.name, t.metadata?.listName]));
}

export function configMapValue(set: ManifestSet, key: string): string | undefined {
  return ofKind(set, 'ConfigMap')[0]?.data?.[key];
}

/** A deep copy to break on purpose. */
export function cloneSet(set: ManifestSet): ManifestSet {
  return structuredClone(set);
}

export function find(set: ManifestSet, kind: string, name: string): Manifest {
  const doc = ofKind(set, kind).find((d) => d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name}`);
  return doc;
}
