import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createJobProducer, createRedis, loadConfig, waitForRedis, type JobProducer } from '@gemini-chat/shared';
import { startStack, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import {
  cloneSet,
  configMapValue,
  environmentOf,
  find,
  httpProbes,
  loadManifestSet,
  loadSources,
  manifestProblems,
  scalerListNames,
  schemaProblems,
  structuralProblems,
  type ManifestSet,
} from './support/manifests.js';

// No cluster runs in CI: the manifests under deploy/kubernetes are checked against Kubernetes' (and KEDA's) own
// schemas, against the code they run (config schema, routes, shutdown limits, queue keys) and against each other.
const manifests = loadManifestSet();
const sources = loadSources();

/** The committed manifests with one thing broken by `change`. */
function broken(change: (set: ManifestSet) => void): string[] {
  const set = cloneSet(manifests);
  change(set);
  return manifestProblems(set, sources);
}
const apiContainer = (set: ManifestSet) => find(set, 'Deployment', 'gemini-chat-api').spec.template.spec.containers[0];

describe('deploy/kubernetes', () => {
  it('holds the resources a deployment needs', () => {
    const kinds = manifests.files.flatMap((f) => f.docs.map((d) => `${d.kind}/${d.metadata.name}`)).sort();
    expect(kinds).toEqual([
      'ConfigMap/gemini-chat-config',
      'Deployment/gemini-chat-api',
      'Deployment/gemini-chat-worker',
      'HorizontalPodAutoscaler/gemini-chat-api',
      'Job/gemini-chat-migrate',
      'Namespace/gemini-chat',
      'PersistentVolumeClaim/gemini-chat-files',
      'PodDisruptionBudget/gemini-chat-api',
      'PodDisruptionBudget/gemini-chat-worker',
      'ScaledObject/gemini-chat-worker',
      'Secret/gemini-chat-keda-redis',
      'Secret/gemini-chat-secrets',
      'Service/gemini-chat-api',
      'TriggerAuthentication/gemini-chat-keda-redis',
    ]);
  });

  it("is valid against Kubernetes' and KEDA's schemas", () => {
    expect(schemaProblems(manifests)).toEqual([]);
  });

  it('agrees with the code and with itself: settings, probes, selectors, grace periods, queue keys, kustomizations', () => {
    expect(structuralProblems(manifests, sources)).toEqual([]);
  });

  it('the Secret template as committed is refused by the config check, so it cannot run with a known key', () => {
    const api = apiContainer(manifests);
    const { env } = environmentOf(manifests, api, 'template');
    expect(() => loadConfig(env)).toThrow(/JWT_SECRET: must be at least 32 characters[\s\S]*OTP_SECRET: must be at least 32 characters/);
  });

  it('with billing turned on, the ConfigMap already has what production then requires', () => {
    const { env } = environmentOf(manifests, apiContainer(manifests));
    const config = loadConfig({ ...env, STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' });
    expect(config.billing.stripe).toBeDefined();
    expect(config.billing.successUrl).toMatch(/^https:/);
  });
});

describe('a broken manifest is caught', () => {
  it('a value of the wrong type (schema)', () => {
    expect(broken((set) => (apiContainer(set).ports[0].containerPort = 'http'))).toContainEqual(expect.stringMatching(/containerPort must be integer/));
  });

  it('a misspelt setting, and a required secret left out', () => {
    expect(broken((set) => (find(set, 'ConfigMap', 'gemini-chat-config').data.DATABASE_POOL_SIZE = '10'))).toContainEqual(
      expect.stringMatching(/DATABASE_POOL_SIZE is not a setting/),
    );
    expect(broken((set) => delete find(set, 'Secret', 'gemini-chat-secrets').stringData.JWT_SECRET)).toContainEqual(
      expect.stringMatching(/config is refused: [\s\S]*JWT_SECRET: required in production/),
    );
    expect(broken((set) => delete find(set, 'Secret', 'gemini-chat-secrets').stringData.DATABASE_URL)).toContainEqual(
      expect.stringMatching(/DATABASE_URL is not provided/),
    );
    const job = (set: ManifestSet) => find(set, 'Job', 'gemini-chat-migrate').spec.template.spec.containers[0];
    expect(broken((set) => (job(set).env = [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'gemini-chat-secrets', key: 'DATABASE_URL' } } }]))).toEqual([]);
    expect(broken((set) => (job(set).env = [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'gemini-chat-db-direct', key: 'url' } } }]))).toContainEqual(
      expect.stringMatching(/env DATABASE_URL names Secret gemini-chat-db-direct key url, which does not exist/),
    );
  });

  it('a probe on a route the API does not have, or liveness on /ready', () => {
    expect(broken((set) => (apiContainer(set).readinessProbe.httpGet.path = '/readyz'))).toContainEqual(
      expect.stringMatching(/GET \/readyz is not a route of the API/),
    );
    expect(broken((set) => (apiContainer(set).livenessProbe.httpGet.path = '/ready'))).toContainEqual(expect.stringMatching(/livenessProbe: \/ready depends/));
  });

  it('a Service or budget that selects no pods', () => {
    expect(broken((set) => (find(set, 'Service', 'gemini-chat-api').spec.selector['app.kubernetes.io/component'] = 'apis'))).toContainEqual(
      expect.stringMatching(/Service gemini-chat-api: selects 0 workloads/),
    );
    expect(broken((set) => (find(set, 'PodDisruptionBudget', 'gemini-chat-worker').spec.selector.matchLabels['app.kubernetes.io/component'] = 'workers'))).toContainEqual(
      expect.stringMatching(/Deployment gemini-chat-worker: no PodDisruptionBudget/),
    );
  });

  it('a grace period shorter than preStop plus the app’s own shutdown limit', () => {
    expect(broken((set) => (find(set, 'Deployment', 'gemini-chat-api').spec.template.spec.terminationGracePeriodSeconds = 12))).toContainEqual(
      'Deployment gemini-chat-api: terminationGracePeriodSeconds 12 must exceed preStop 5 s + shutdown 10 s',
    );
    expect(broken((set) => (find(set, 'Deployment', 'gemini-chat-worker').spec.template.spec.terminationGracePeriodSeconds = 15))).toContainEqual(
      expect.stringMatching(/gemini-chat-worker: terminationGracePeriodSeconds 15 must exceed preStop 0 s \+ shutdown 15 s/),
    );
    // The limits are read from the code: a longer shutdown there makes the committed manifest too short.
    const slower = { ...sources, apiServer: sources.apiServer.replace('SHUTDOWN_TIMEOUT_MS = 10_000', 'SHUTDOWN_TIMEOUT_MS = 40_000') };
    expect(manifestProblems(manifests, slower)).toContainEqual(expect.stringMatching(/gemini-chat-api: terminationGracePeriodSeconds 30 must exceed/));
  });

  it('an autoscaler reading another queue key, or another prefix than REDIS_KEY_PREFIX', () => {
    const scaler = (set: ManifestSet) => find(set, 'ScaledObject', 'gemini-chat-worker');
    expect(broken((set) => (scaler(set).spec.triggers[0].metadata.listName = 'bull:replies:wait'))).toContainEqual(
      expect.stringMatching(/listName bull:replies:wait is not BullMQ's gemini-chat:bull:replies:wait/),
    );
    expect(broken((set) => (find(set, 'ConfigMap', 'gemini-chat-config').data.REDIS_KEY_PREFIX = 'chat:'))).toContainEqual(
      expect.stringMatching(/is not BullMQ's chat:bull:replies:wait/),
    );
    expect(broken((set) => (scaler(set).spec.advanced.scalingModifiers.formula = 'waiting'))).toContainEqual(expect.stringMatching(/formula must add every trigger/));
    expect(broken((set) => (scaler(set).spec.minReplicaCount = 1))).toContainEqual('ScaledObject gemini-chat-worker: minReplicaCount below 2');
  });

  it('a manifest no kustomization applies, or the template applied', () => {
    expect(broken((set) => (set.kustomizations[0]!.resources = set.kustomizations[0]!.resources.filter((r) => r !== 'api-pdb.yaml')))).toContainEqual(
      'api-pdb.yaml is in no kustomization',
    );
    expect(broken((set) => set.kustomizations[0]!.resources.push('secret.template.yaml'))).toContainEqual(expect.stringMatching(/template and must not be applied/));
  });
});

describe('against the running processes', () => {
  let stack: Stack;
  let producer: JobProducer;
  let redis: ReturnType<typeof createRedis>;

  beforeAll(async () => {
    stack = await startStack({}, { startWorker, worker: false });
    producer = createJobProducer(stack.config.redis, 1);
    redis = createRedis(stack.config.redis, { kind: 'command', name: 'manifest-test' });
    await waitForRedis(redis, 3000);
  });
  afterAll(async () => {
    await producer?.close();
    if (redis) await closeRedis(redis);
    await stack?.close();
  });

  it("the worker autoscaler's keys are the lists BullMQ keeps this queue's jobs in", async () => {
    // The same keys under this test's own prefix instead of the ConfigMap's.
    const prefix = configMapValue(manifests, 'REDIS_KEY_PREFIX')!;
    const keys = Object.fromEntries(Object.entries(scalerListNames(manifests)).map(([name, key]) => [name, stack.config.redis.keyPrefix + key.slice(prefix.length)]));
    expect(keys).toEqual({ waiting: producer.queue.keys.wait, running: producer.queue.keys.active });
    expect(await redis.llen(keys.waiting!)).toBe(0);
    await producer.enqueue('generate-reply', { assistantMessageId: '00000000-0000-4000-8000-000000000001' });
    // No worker runs yet: the job waits in the list KEDA counts.
    expect(await redis.type(keys.waiting!)).toBe('list');
    expect(await redis.llen(keys.waiting!)).toBe(1);
    await producer.queue.drain();
  });

  it("the API's probes answer 200 from the real app", async () => {
    const probes = httpProbes(manifests, 'api');
    expect(probes.map((p) => p.path).sort()).toEqual(['/health', '/health', '/ready']);
    for (const probe of probes) expect((await stack.app.inject({ method: 'GET', url: probe.path })).statusCode, probe.kind).toBe(200);
    expect((await stack.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(404);
  });

  it("the worker's probes answer 200 from a real worker's metrics server", async () => {
    const worker = await stack.startWorker();
    const probes = httpProbes(manifests, 'worker');
    expect(probes).toHaveLength(3);
    for (const probe of probes) expect((await fetch(worker.metricsUrl + probe.path)).status, probe.kind).toBe(200);
  });
});
