import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/**
 * An application's webhook receiver, as the notification README tells one to
 * verify Herald's deliveries (Standard Webhooks), written from that text and
 * not from the service's code: a real HTTP server on 127.0.0.1 that can go
 * down (its port closed) and come back on the same port.
 */

export interface ReceivedDelivery {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/** The documented procedure: HMAC-SHA256 of `id.timestamp.body` with the base64 key after `whsec_`. */
export function verifySignature(
  secret: string,
  delivery: Pick<ReceivedDelivery, 'id' | 'timestamp' | 'signature' | 'body'>,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!secret.startsWith('whsec_')) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${delivery.id}.${delivery.timestamp}.${delivery.body}`)
    .digest();
  if (options.nowSeconds !== undefined) {
    const age = Math.abs(options.nowSeconds - Number(delivery.timestamp));
    if (!(age <= (options.toleranceSeconds ?? 300))) return false;
  }
  return delivery.signature.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) return false;
    const presented = Buffer.from(value, 'base64');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  });
}

export class EventReceiver {
  /** every request that reached it, in arrival order */
  readonly received: ReceivedDelivery[] = [];
  private server: Server | undefined;
  port = 0;
  /** answers with this status (200 by default); anything else tells Herald to retry */
  status = 200;

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({
          path: request.url ?? '',
          id: String(request.headers['webhook-id']),
          timestamp: String(request.headers['webhook-timestamp']),
          signature: String(request.headers['webhook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        response.writeHead(this.status, { 'content-type': 'text/plain' }).end(`status ${this.status}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: the port refuses connections until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  at(path: string): ReceivedDelivery[] {
    return this.received.filter((delivery) => delivery.path === path);
  }
}
