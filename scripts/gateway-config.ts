// Renders the top-level nginx.conf template for a local run; the gateway
// image renders the same placeholders with envsubst.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');

export interface GatewayConfigOptions {
  runDir: string;
  port?: number;
  upstreams?: Partial<Record<'auth' | 'notification' | 'realtime' | 'deliveryWorker', string>>;
  credentialsRate?: string;
  credentialsBurst?: number;
  webhooksRate?: string;
  webhooksBurst?: number;
  accessLog?: string;
}

const PLACEHOLDER = /\$\{(HERALD_[A-Z_]+)\}/g;

export function gatewayVariables(options: GatewayConfigOptions): Record<string, string> {
  const upstreams = options.upstreams ?? {};
  return {
    HERALD_NGINX_RUN_DIR: options.runDir,
    HERALD_NGINX_MIME_TYPES: '/etc/nginx/mime.types',
    HERALD_NGINX_ACCESS_LOG: options.accessLog ?? join(options.runDir, 'access.log'),
    HERALD_CREDENTIALS_RATE: options.credentialsRate ?? '10r/m',
    HERALD_CREDENTIALS_BURST: String(options.credentialsBurst ?? 10),
    HERALD_WEBHOOKS_RATE: options.webhooksRate ?? '50r/s',
    HERALD_WEBHOOKS_BURST: String(options.webhooksBurst ?? 100),
    HERALD_AUTH_UPSTREAM: upstreams.auth ?? '127.0.0.1:3001',
    HERALD_NOTIFICATION_UPSTREAM: upstreams.notification ?? '127.0.0.1:3002',
    HERALD_DELIVERY_WORKER_UPSTREAM: upstreams.deliveryWorker ?? '127.0.0.1:3003',
    HERALD_REALTIME_UPSTREAM: upstreams.realtime ?? '127.0.0.1:3004',
    HERALD_GATEWAY_PORT: String(options.port ?? 8080),
    HERALD_GATEWAY_STATIC_DIR: join(REPO_ROOT, 'gateway'),
  };
}

export function renderGatewayConfig(template: string, variables: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`nginx.conf uses ${name}, which has no value`);
    return value;
  });
}

/** Writes the rendered config into runDir and returns its path. */
export function writeGatewayConfig(options: GatewayConfigOptions): string {
  mkdirSync(options.runDir, { recursive: true });
  const template = readFileSync(join(REPO_ROOT, 'nginx.conf'), 'utf8');
  const path = join(options.runDir, 'nginx.conf');
  writeFileSync(path, renderGatewayConfig(template, gatewayVariables(options)));
  return path;
}
