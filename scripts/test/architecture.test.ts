// The machine-checkable rules of docs/service-anatomy.md, over the real
// sources, and the checker itself over small trees that break each rule.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import {
  dependencyViolations,
  importCycles,
  importsOf,
  layerViolations,
  lineCount,
  listSourceFiles,
} from './architecture-rules';

const ROOT = join(__dirname, '..', '..');
const SERVICES = readdirSync(join(ROOT, 'services')).sort();
const PACKAGES = readdirSync(join(ROOT, 'packages')).sort();
/** packages whose whole purpose is tests or local runs; they may use test infrastructure */
const NOT_PRODUCTION = new Set(['test-support', 'fake-providers', 'local-infra']);

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'herald-arch-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the checker', () => {
  const made: string[] = [];
  const make = (files: Record<string, string>) => {
    const root = tree(files);
    made.push(root);
    return root;
  };
  afterAll(() => made.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('reports a domain module importing a routes module or HTTP schemas', () => {
    const src = make({
      'feature/routes.ts': 'export const r = 1;\n',
      'feature/schemas.ts': 'export const S = 1;\n',
      'feature/domain/create.ts': "import { S } from '../schemas';\nimport { r } from '../routes';\n",
    });
    expect(layerViolations(src).map((v) => v.rule)).toEqual([
      'domain-imports-routes',
      'domain-imports-routes',
    ]);
  });

  it('reports a data module importing domain', () => {
    const src = make({
      'feature/domain/types.ts': 'export type T = 1;\n',
      'feature/data/model.ts': "import { type T } from '../domain/types';\n",
    });
    expect(layerViolations(src)).toEqual([
      {
        rule: 'data-imports-domain',
        file: 'feature/data/model.ts',
        detail: 'imports feature/domain/types.ts',
      },
    ]);
  });

  it('accepts arrows that point down', () => {
    const src = make({
      'feature/data/model.ts': 'export const m = 1;\n',
      'feature/domain/create.ts': "import { m } from '../data/model';\n",
      'feature/routes.ts': "import { m } from './data/model';\nimport './domain/create';\n",
    });
    expect(layerViolations(src)).toEqual([]);
    expect(importCycles(src)).toEqual([]);
  });

  it('finds a cycle of modules, but not one made only of type imports', () => {
    const src = make({
      'a.ts': "import { b } from './b';\nexport const a = 1;\n",
      'b.ts': "import { c } from './c';\nexport const b = 1;\n",
      'c.ts': "import { a } from './a';\nexport const c = 1;\n",
      'd.ts': "import type { E } from './e';\nexport type D = 1;\n",
      'e.ts': "import type { D } from './d';\nexport type E = 1;\n",
    });
    expect(importCycles(src)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('reports production code importing test infrastructure, fakes or another package', () => {
    const src = make({
      'server.ts':
        "import { x } from '@herald/test-support';\nimport { y } from '@herald/fake-providers';\nimport z from '../../other/src/z';\nimport { w } from '@herald/local-infra';\n",
    });
    expect(dependencyViolations([{ name: 'svc', src, isService: true }]).map((v) => v.rule)).toEqual([
      'imports-test-support',
      'imports-fake-providers',
      'imports-outside-its-package',
      'imports-local-infra',
    ]);
  });
});

describe('the sources', () => {
  it.each(SERVICES)('%s: no domain or data module imports a higher layer', (service) => {
    expect(layerViolations(join(ROOT, 'services', service, 'src'))).toEqual([]);
  });

  it.each(SERVICES)('%s: no two modules import each other in a circle', (service) => {
    expect(importCycles(join(ROOT, 'services', service, 'src'))).toEqual([]);
  });

  it('production code never imports test infrastructure, fakes, or another package by path', () => {
    const roots = [
      ...SERVICES.map((name) => ({ name, src: join(ROOT, 'services', name, 'src'), isService: true })),
      ...PACKAGES.filter((name) => !NOT_PRODUCTION.has(name)).map((name) => ({
        name,
        src: join(ROOT, 'packages', name, 'src'),
        isService: false,
      })),
    ];
    expect(dependencyViolations(roots)).toEqual([]);
  });

  it('pnpm start and the benchmarks run on local-infra, never on test-support internals', () => {
    const tools = [
      ...readdirSync(join(ROOT, 'scripts'))
        .filter((name) => name.endsWith('.ts'))
        .map((name) => join(ROOT, 'scripts', name)),
      ...listSourceFiles(join(ROOT, 'bench')),
    ];
    const offenders = tools.flatMap((file) =>
      importsOf(file)
        .filter((edge) => /test-support\/src|^@herald\/test-support$/.test(edge.specifier))
        .filter((edge) => !file.startsWith(join(ROOT, 'bench')) || edge.specifier !== '@herald/test-support')
        .map((edge) => `${relative(ROOT, file)} → ${edge.specifier}`),
    );
    // the embedded MongoDB in particular comes from local-infra, whatever else a benchmark borrows
    const mongoFromTests = tools.filter((file) =>
      /import\s*\{[^}]*\bstartMongoJavaServer\b[^}]*\}\s*from\s*'[^']*test-support/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect([...offenders, ...mongoFromTests.map((file) => relative(ROOT, file))]).toEqual([]);
  });

  it('test-support and fake-providers are development dependencies of every service', () => {
    for (const service of SERVICES) {
      const manifest = JSON.parse(readFileSync(join(ROOT, 'services', service, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      const runtime = Object.keys(manifest.dependencies ?? {});
      expect({
        service,
        testOnly: runtime.filter((name) => /^@herald\/(test-support|fake-providers)$/.test(name)),
      }).toEqual({
        service,
        testOnly: [],
      });
    }
  });

  it('the largest service is at most twice the next, or its README says why', () => {
    const sizes = SERVICES.map((name) => ({
      name,
      lines: lineCount(join(ROOT, 'services', name, 'src')),
    })).sort((a, b) => b.lines - a.lines);
    const [largest, next] = sizes;
    if (!largest || !next || largest.lines <= 2 * next.lines) return;
    const readme = readFileSync(join(ROOT, 'services', largest.name, 'README.md'), 'utf8');
    expect({ service: largest.name, explains: /^## Why this service is the largest/m.test(readme) }).toEqual({
      service: largest.name,
      explains: true,
    });
  });
});
