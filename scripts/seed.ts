// `pnpm seed`: an admin and a demo user on the platform `pnpm start` runs
// (in another terminal), with their credentials printed. Safe to run again.
import { seedPlatform } from './seed-platform';

async function main(): Promise<void> {
  const result = await seedPlatform({ log: (line) => process.stdout.write(`  ${line}\n`) });
  const { admin, demo } = result;
  const lines = [
    '',
    'Herald is seeded.',
    `  Admin:      ${admin.email}  password: ${admin.fromEnv ? '(your ADMIN_PASSWORD)' : admin.password}`,
    `  Demo user:  ${demo.email}  password: ${demo.password}${demo.emailVerified ? '' : '  (email not verified)'}`,
    `  API:        ${result.baseUrl}/api/v1  (log in: POST /api/v1/auth/login)`,
    ...result.swaggerUrls.map((url) => `  Swagger UI: ${url}`),
    ...(admin.fromEnv
      ? []
      : ['  The passwords were generated once and are kept in .data/local-credentials.json (git-ignored).']),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`pnpm seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
