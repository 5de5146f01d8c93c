import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/*
 * The rules of docs/service-anatomy.md that a machine can check, read from
 * the sources: which module imports which. Used by
 * scripts/test/architecture.test.ts; a rule broken anywhere fails the suite.
 */

export interface ImportEdge {
  from: string;
  /** the specifier as written */
  specifier: string;
  /** the resolved file for a relative import, else undefined */
  to?: string;
  /** `import type …` / `export type … from`: erased at run time */
  typeOnly: boolean;
}

export interface Violation {
  rule: string;
  file: string;
  detail: string;
}

const IMPORT_PATTERN =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

export function listSourceFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(root)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(root, entry);
    if (statSync(path).isDirectory()) out.push(...listSourceFiles(path));
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(file, 'utf8');
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(IMPORT_PATTERN)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    if (!specifier) continue;
    const typeOnly = Boolean(match[2]);
    const to = specifier.startsWith('.') ? resolveRelative(file, specifier) : undefined;
    edges.push({ from: file, specifier, to, typeOnly });
  }
  return edges;
}

const segments = (path: string) => path.split(sep);

/** A module of the HTTP layer: a routes file or folder, or a feature's HTTP schemas. */
function isRouteLayer(path: string): boolean {
  const parts = segments(path);
  const name = parts[parts.length - 1] ?? '';
  return parts.includes('routes') || /^routes?\.ts$/.test(name) || name === 'schemas.ts';
}

const inFolder = (path: string, folder: string) => segments(path).includes(folder);

/** Layer rules: domain never imports the HTTP layer; data never imports domain or the HTTP layer. */
export function layerViolations(serviceSrc: string): Violation[] {
  const violations: Violation[] = [];
  for (const file of listSourceFiles(serviceSrc)) {
    const rel = relative(serviceSrc, file);
    const inDomain = inFolder(rel, 'domain');
    const inData = inFolder(rel, 'data');
    if (!inDomain && !inData) continue;
    for (const edge of importsOf(file)) {
      if (!edge.to) continue;
      const target = relative(serviceSrc, edge.to);
      if (target.startsWith('..')) continue;
      if (isRouteLayer(target)) {
        violations.push({
          rule: inDomain ? 'domain-imports-routes' : 'data-imports-routes',
          file: rel,
          detail: `imports ${target}`,
        });
      } else if (inData && inFolder(target, 'domain')) {
        violations.push({ rule: 'data-imports-domain', file: rel, detail: `imports ${target}` });
      }
    }
  }
  return violations;
}

/** Import cycles among a service's modules (type-only imports are erased at run time and do not count). */
export function importCycles(serviceSrc: string): string[][] {
  const files = listSourceFiles(serviceSrc);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    graph.set(
      file,
      importsOf(file)
        .filter((edge) => edge.to && !edge.typeOnly)
        .map((edge) => edge.to as string),
    );
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'visiting') {
        cycles.push([...stack.slice(stack.indexOf(next)), next].map((path) => relative(serviceSrc, path)));
      } else if (!seen) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

/** Production code never imports test infrastructure, fakes, or another service's code. */
export function dependencyViolations(
  productionRoots: { name: string; src: string; isService: boolean }[],
): Violation[] {
  const violations: Violation[] = [];
  for (const root of productionRoots) {
    for (const file of listSourceFiles(root.src)) {
      for (const edge of importsOf(file)) {
        const rel = relative(root.src, file);
        if (edge.specifier === '@herald/test-support' || edge.specifier.startsWith('@herald/test-support/')) {
          violations.push({
            rule: 'imports-test-support',
            file: `${root.name}/${rel}`,
            detail: edge.specifier,
          });
        }
        if (root.isService && edge.specifier.startsWith('@herald/local-infra')) {
          violations.push({
            rule: 'imports-local-infra',
            file: `${root.name}/${rel}`,
            detail: edge.specifier,
          });
        }
        if (root.isService && edge.specifier.startsWith('@herald/fake-providers')) {
          violations.push({
            rule: 'imports-fake-providers',
            file: `${root.name}/${rel}`,
            detail: edge.specifier,
          });
        }
        const target = edge.specifier.startsWith('.') ? resolve(dirname(file), edge.specifier) : undefined;
        if (target && relative(root.src, target).startsWith('..')) {
          violations.push({
            rule: 'imports-outside-its-package',
            file: `${root.name}/${rel}`,
            detail: edge.specifier,
          });
        }
        if (/(^|\/)services\//.test(edge.specifier)) {
          violations.push({ rule: 'imports-a-service', file: `${root.name}/${rel}`, detail: edge.specifier });
        }
      }
    }
  }
  return violations;
}

export function lineCount(root: string): number {
  return listSourceFiles(root).reduce((sum, file) => sum + readFileSync(file, 'utf8').split('\n').length, 0);
}
