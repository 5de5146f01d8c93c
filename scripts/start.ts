// `pnpm start`: the whole platform on one machine, until Ctrl-C.
import { relative } from 'node:path';
import { parseStartArguments, startStack, type Stack } from './stack';

async function main(): Promise<void> {
  const started: { stack?: Stack } = {};
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    if (started.stack) void started.stack.stop().then(() => process.exit(0));
    // The children run in process groups of their own: dying now would leave them running.
    else process.stdout.write('\nStopping as soon as the start-up has finished…\n');
  };
  // SIGHUP too: a closed terminal reaches only us, not the detached children.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);

  const { gateway, scale } = parseStartArguments(process.argv.slice(2));
  const stack = await startStack({ detachChildren: true, gateway, scale });
  started.stack = stack;
  if (stopping) {
    await stack.stop();
    process.exit(0);
  }
  const lines = [
    '',
    'Herald is up.',
    ...(stack.gatewayUrl
      ? [
          `  Gateway:    ${stack.gatewayUrl}`,
          `  Web app:    ${stack.gatewayUrl}/`,
          `  Swagger UI: ${stack.gatewayUrl}/docs/`,
        ]
      : Object.entries(stack.serviceUrls).map(([name, url]) => `  ${name}: ${url} (Swagger UI ${url}/docs)`)),
    ...(stack.instances.length > Object.keys(stack.serviceUrls).length
      ? [`  Instances:  ${stack.instances.map((i) => `${i.service}#${i.instance + 1} ${i.url}`).join(', ')}`]
      : []),
    ...(process.env.MONGO_URL
      ? []
      : [
          `  Data:       ${relative(process.cwd(), stack.dataDir) || '.'}/ (MongoDB's data is kept across restarts)`,
        ]),
    '  Accounts:   run `pnpm seed` in another terminal: it creates an admin and a demo user and prints their credentials',
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`pnpm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
