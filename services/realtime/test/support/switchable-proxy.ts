import { createServer, connect, type Server, type Socket } from 'node:net';
import { type AddressInfo } from 'node:net';

/**
 * A TCP proxy standing in for the gateway's load balancer: clients keep one
 * URL while the test decides which instance (if any) takes new connections.
 */
export async function startSwitchableProxy() {
  let target: string | undefined;
  const open = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    if (!target) {
      incoming.destroy();
      return;
    }
    const { hostname, port } = new URL(target);
    const upstream = connect(Number(port), hostname);
    for (const socket of [incoming, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        incoming.destroy();
        upstream.destroy();
      });
    }
    incoming.pipe(upstream).pipe(incoming);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** new connections go to `url`; none are accepted while it is undefined */
    routeTo(url: string | undefined) {
      target = url;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
