// Renders the top-level nginx.conf template for a local run; the gateway
// image renders the same placeholders with envsubst.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');

export interface GatewayConfigOptions {
  runDir: string;
  port?: number;
  /** host:port of each service, or of each of its instances (nginx balances over them) */
  upstreams?: Partial<
    Record<'auth' | 'notification' | 'realtime' | 'deliveryWorker' | 'workflows', string | string[]>
  >;
  credentialsRate?: string;
  credentialsBurst?: number;
  webhooksRate?: string;
  webhooksBurst?: number;
  accessLog?: string;
  /**
   * Proxies in front of the gateway (a load balancer) whose X-Forwarded-For
   * is believed: addresses or CIDRs, comma- or space-separated, as in
   * HERALD_TRUSTED_PROXIES. None by default: the direct peer is the client.
   */
  trustedProxies?: string;
}

/** An address or CIDR, IPv4 or IPv6, and nothing nginx could read as more config. */
const PROXY_ADDRESS = /^[0-9A-Fa-f:.]+(\/\d{1,3})?$/;

/**
 * The `set_real_ip_from` lines nginx.conf includes from the run directory,
 * one per trusted proxy; empty for none. gateway/docker-entrypoint.sh writes
 * the same file from the same variable.
 */
export function trustedProxiesConfig(list: string | undefined): string {
  const proxies = (list ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  const bad = proxies.filter((entry) => !PROXY_ADDRESS.test(entry));
  if (bad.length > 0) {
    throw new Error(`HERALD_TRUSTED_PROXIES takes addresses and CIDRs only; not: ${bad.join(', ')}`);
  }
  return proxies.map((proxy) => `set_real_ip_from ${proxy};\n`).join('');
}

const PLACEHOLDER = /\$\{(HERALD_[A-Z_]+)\}/g;

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * An upstream's servers as nginx.conf's `server ${HERALD_X_UPSTREAM};` takes them: one host:port,
 * or several joined into `a; server b`. (The gateway image gets one name per service, which
 * Docker's DNS resolves to every replica.)
 */
export function upstreamServers(value: string | string[] | undefined, fallback: string): string {
  const servers = value === undefined ? [fallback] : Array.isArray(value) ? value : [value];
  const bad = servers.filter((server) => !HOST_PORT.test(server));
  if (servers.length === 0 || bad.length > 0) {
    throw new Error(`an upstream is host:port, one or more; not: ${bad.join(', ') || '(none)'}`);
  }
  return servers.join('; server ');
}

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
    HERALD_AUTH_UPSTREAM: upstreamServers(upstreams.auth, '127.0.0.1:3001'),
    HERALD_NOTIFICATION_UPSTREAM: upstreamServers(upstreams.notification, '127.0.0.1:3002'),
    HERALD_DELIVERY_WORKER_UPSTREAM: upstreamServers(upstreams.deliveryWorker, '127.0.0.1:3003'),
    HERALD_REALTIME_UPSTREAM: upstreamServers(upstreams.realtime, '127.0.0.1:3004'),
    HERALD_WORKFLOWS_UPSTREAM: upstreamServers(upstreams.workflows, '127.0.0.1:3005'),
    HERALD_GATEWAY_PORT: String(options.port ?? 8080),
    HERALD_GATEWAY_STATIC_DIR: join(REPO_ROOT, 'gateway'),
    HERALD_EXAMPLES_DIR: join(REPO_ROOT, 'examples'),
    // the built web app (`pnpm build`); nginx's workers read it, so its files must be world-readable
    HERALD_WEB_DIR: join(REPO_ROOT, 'apps', 'web', 'dist'),
  };
}

export function renderGatewayConfig(template: string, variables: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`nginx.conf uses ${name}, which has no value`);
    return value;
  });
}

/** Writes the rendered config (and the trusted proxies it includes) into runDir and returns its path. */
export function writeGatewayConfig(options: GatewayConfigOptions): string {
  const template = readFileSync(join(REPO_ROOT, 'nginx.conf'), 'utf8');
  const config = renderGatewayConfig(template, gatewayVariables(options));
  const trustedProxies = trustedProxiesConfig(options.trustedProxies);
  mkdirSync(options.runDir, { recursive: true });
  const path = join(options.runDir, 'nginx.conf');
  writeFileSync(path, config);
  writeFileSync(join(options.runDir, 'trusted-proxies.conf'), trustedProxies);
  return path;
}
