import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = path.resolve(__dirname, '..');
const HEAVY = ['mongoose', 'fastify'];

/**
 * Loads `specifier` in a fresh Node process, the way services run from
 * source (tsx, workspace packages resolved to src by the @herald/source
 * condition), and names which of `HEAVY` it pulled in. A child process,
 * because Jest's module registry is not Node's.
 */
async function heavyPackagesLoadedBy(specifier: string): Promise<string[]> {
  const script = `
    require(${JSON.stringify(specifier)});
    const files = Object.keys(require.cache);
    const loaded = ${JSON.stringify(HEAVY)}.filter((name) =>
      files.some((file) => file.includes('/node_modules/' + name + '/')),
    );
    process.stdout.write(JSON.stringify(loaded));
  `;
  const { stdout } = await run(
    process.execPath,
    ['--conditions=@herald/source', '--import', 'tsx', '-e', script],
    { cwd: packageDir },
  );
  return JSON.parse(stdout) as string[];
}

describe("the runtime's entry points", () => {
  it('loads neither mongoose nor fastify for the core every process needs', async () => {
    expect(await heavyPackagesLoadedBy('./src/core')).toEqual([]);
  });

  it('loads mongoose for @herald/runtime/mongo, and not fastify', async () => {
    expect(await heavyPackagesLoadedBy('@herald/runtime/mongo')).toEqual(['mongoose']);
  });

  it('loads fastify for @herald/runtime/http, and not mongoose', async () => {
    expect(await heavyPackagesLoadedBy('@herald/runtime/http')).toEqual(['fastify']);
  });
});
