// `pnpm start`: the whole platform on one machine, until Ctrl-C.
import { startStack } from './stack';

async function main(): Promise<void> {
  const stack = await startStack();
  const lines = [
    '',
    'Herald is up.',
    ...(stack.gatewayUrl
      ? [`  Gateway:    ${stack.gatewayUrl}`, `  Swagger UI: ${stack.gatewayUrl}/docs/`]
      : Object.entries(stack.serviceUrls).map(([name, url]) => `  ${name}: ${url} (Swagger UI ${url}/docs)`)),
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`pnpm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
