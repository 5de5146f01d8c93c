// deploy/k8s checked against the Kubernetes API schemas (offline, kubernetes-models), against
// kustomize's own output, and against the code the manifests run: every setting a ConfigMap or
// a secret template names is a variable its service reads, every port and probe is the one the
// service serves, and the worker scales on the queues it actually consumes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queues } from '@herald/contracts';
import { parseAllDocuments, parse as parseYamlDocument } from 'yaml';
import { AuthEnv } from '../../services/auth/src/config';
import { DeliveryWorkerEnv } from '../../services/delivery-worker/src/config';
import { NotificationEnv } from '../../services/notification/src/config';
import { RealtimeEnv } from '../../services/realtime/src/config';
import { WorkflowsEnv } from '../../services/workflows/src/config';

const ROOT = resolve(__dirname, '../..');
const K8S = join(ROOT, 'deploy/k8s');
const RENDERED = join(K8S, 'rendered/production.yaml');
const read = (path: string) => readFileSync(path, 'utf8');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
}

const objects: K8sObject[] = parseAllDocuments(read(RENDERED))
  .map((doc) => doc.toJS() as K8sObject | null)
  .filter((o): o is K8sObject => o !== null);
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

/** the Node services and the variables each reads (its config schema) */
const SERVICES: Record<string, { env: Record<string, unknown> }> = {
  auth: { env: AuthEnv },
  notification: { env: NotificationEnv },
  'delivery-worker': { env: DeliveryWorkerEnv },
  realtime: { env: RealtimeEnv },
  workflows: { env: WorkflowsEnv },
};

function validate(files: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'scripts/k8s/validate.mjs'), ...files], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

function envFile(path: string): Record<string, string> {
  const entries = read(path)
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

describe('the Kubernetes manifests', () => {
  it('are valid against the Kubernetes API schemas', () => {
    const result = validate([RENDERED]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('the validator refuses a broken manifest, naming the object and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-k8s-'));
    try {
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, read(RENDERED).replace('containerPort: 3001', 'containerPort: "3001x"'));
      const result = validate([broken]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('Deployment/auth');
      expect(result.stderr).toContain('containerPort');
      writeFileSync(broken, 'apiVersion: apps/v1\nkind: Deploymint\nmetadata: { name: x }\n');
      expect(validate([broken]).stderr).toContain('unknown apiVersion/kind');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // kubectl carries kustomize; this machine (and CI on it) has it. Without it the rendered file
  // cannot be re-derived here, which the test says rather than passing silently.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  (kubectl.status === 0 ? it : it.skip)(
    'rendered/production.yaml is what kustomize builds (pnpm k8s:render)',
    () => {
      const built = spawnSync('kubectl', ['kustomize', join(K8S, 'overlays/production')], {
        encoding: 'utf8',
      });
      expect(built.status).toBe(0);
      expect(built.stdout).toBe(read(RENDERED));
    },
  );
  if (kubectl.status !== 0)
    console.warn('kubectl not found: the rendered manifests were not compared with kustomize');

  it('commit no secret values: no Secret objects, and the secret templates hold placeholders only', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const file of readdirSync(join(K8S, 'secrets.example'))) {
      for (const [name, value] of Object.entries(envFile(join(K8S, 'secrets.example', file)))) {
        // empty, or a template with <placeholders>
        expect({ name, value, placeholder: value === '' || /<[^>]+>/.test(value) }).toEqual({
          name,
          value,
          placeholder: true,
        });
      }
    }
  });

  it('run every service with probes, resources, a disruption budget and an autoscaler', () => {
    const served = readdirSync(join(ROOT, 'services')).sort();
    for (const name of served) {
      const deployment = find('Deployment', name);
      expect({ name, deployment: deployment !== undefined }).toEqual({ name, deployment: true });
      const container = deployment!.spec.template.spec.containers[0];
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(container.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String) }));
      expect(container.resources.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
      expect(find('Service', name)?.spec.ports[0].port).toBe(container.ports[0].containerPort);
      expect(find('PodDisruptionBudget', name)?.spec.selector.matchLabels).toEqual(
        deployment!.spec.selector.matchLabels,
      );
      const hpa = find('HorizontalPodAutoscaler', name);
      expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
      // longer than the service's drain (SHUTDOWN_TIMEOUT_MS)
      expect(deployment!.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        Number(find('ConfigMap', configMapName('herald-common'))!.data!.SHUTDOWN_TIMEOUT_MS),
      );
    }
  });

  function configMapName(prefix: string): string {
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${prefix}-`));
    if (!map) throw new Error(`no ConfigMap ${prefix}`);
    return map.metadata.name;
  }

  it.each(Object.keys(SERVICES))(
    '%s: every setting in its ConfigMaps and secret template is a variable it reads, on the port it serves',
    (name) => {
      const deployment = find('Deployment', name)!;
      const container = deployment.spec.template.spec.containers[0];
      const env = SERVICES[name]!.env;
      const maps = (container.envFrom as { configMapRef?: { name: string } }[])
        .filter((e) => e.configMapRef)
        .map((e) => find('ConfigMap', e.configMapRef!.name));
      expect(maps.every((m) => m !== undefined)).toBe(true);
      // its own ConfigMap and secret: only what it reads (the shared one is checked below)
      const own = {
        ...find('ConfigMap', configMapName(`herald-${name}`))!.data,
        ...envFile(join(K8S, 'secrets.example', `${name}.env`)),
      } as Record<string, string>;
      expect(Object.keys(own).filter((key) => !(key in env))).toEqual([]);
      const settings = { ...Object.assign({}, ...maps.map((m) => m!.data)), ...own } as Record<
        string,
        string
      >;
      expect(Number(settings.PORT)).toBe(container.ports[0].containerPort);
      expect(settings.NODE_ENV).toBe('production');
      // what production refuses to start without
      for (const required of ['MONGO_URL', 'AMQP_URL', 'JWT_PRIVATE_KEYS', 'WEBHOOK_SECRETS_KEY'].filter(
        (key) => key in env,
      )) {
        expect(Object.keys(settings)).toContain(required);
      }
      expect(container.envFrom).toContainEqual({ secretRef: { name: `herald-${name}` } });
    },
  );

  it('scale the worker on the depth of the queues it consumes, and give realtime a name per pod', () => {
    const hpa = find('HorizontalPodAutoscaler', 'delivery-worker')!;
    const queues = (
      hpa.spec.metrics as {
        type: string;
        external?: { metric: { selector: { matchLabels: { queue: string } } } };
      }[]
    )
      .filter((m) => m.type === 'External')
      .map((m) => m.external!.metric.selector.matchLabels.queue);
    expect(queues.sort()).toEqual([Queues.workEmail, Queues.workSms, Queues.workPush].sort());
    const realtime = find('Deployment', 'realtime')!.spec.template.spec.containers[0];
    expect(realtime.env).toContainEqual({
      name: 'INSTANCE_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
  });

  it('route Socket.IO to realtime with sticky sessions and WebSocket timeouts, the rest to the gateway', () => {
    const realtime = find('Ingress', 'herald-realtime')!;
    expect(realtime.metadata.annotations).toEqual(
      expect.objectContaining({
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': expect.any(String),
      }),
    );
    const path = realtime.spec.rules[0].http.paths[0];
    expect(path.path).toBe('/socket.io/');
    expect(path.backend.service.name).toBe('realtime');
    const rest = find('Ingress', 'herald')!.spec.rules[0].http.paths[0];
    expect([rest.path, rest.backend.service.name]).toEqual(['/', 'gateway']);
    // the gateway's upstreams are the Services' names and ports
    const gatewayMap = find('ConfigMap', configMapName('herald-gateway'))!.data!;
    for (const name of Object.keys(SERVICES)) {
      const key = `HERALD_${name.toUpperCase().replace('-', '_')}_UPSTREAM`;
      expect(gatewayMap[key]).toBe(`${name}:${find('Service', name)!.spec.ports[0].port}`);
    }
  });

  it('share only settings some service reads', () => {
    const common = find('ConfigMap', configMapName('herald-common'))!.data!;
    const readBySome = (key: string) => Object.values(SERVICES).some(({ env }) => key in env);
    expect(Object.keys(common).filter((key) => !readBySome(key))).toEqual([]);
  });

  it('put everything in the herald namespace', () => {
    expect(parseYamlDocument(read(join(K8S, 'overlays/production/kustomization.yaml'))).namespace).toBe(
      'herald',
    );
    for (const o of objects.filter((o) => o.kind !== 'Namespace'))
      expect(o.metadata.namespace).toBe('herald');
  });
});
