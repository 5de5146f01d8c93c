#!/usr/bin/env node
// Validates Kubernetes manifests offline against the Kubernetes API schemas (kubernetes-models:
// the OpenAPI schemas of each API version, compiled to validators). Every document of every file
// given must be a known apiVersion/kind and valid, else the exit code is 1 and each problem is
// printed as `file: Kind/name: message`.
//   node scripts/k8s/validate.mjs deploy/k8s/rendered/*.yaml
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

async function modelFor(apiVersion, kind) {
  // "v1" is the core group; "apps/v1" → kubernetes-models/apps/v1
  const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const module = await import(modulePath);
    return module[kind] ?? module.default;
  } catch {
    return undefined;
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: validate.mjs <manifest.yaml>...');
  process.exit(2);
}
let problems = 0;
let documents = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) {
      problems += 1;
      console.error(`${file}: YAML: ${doc.errors[0].message}`);
      continue;
    }
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    documents += 1;
    const where = `${file}: ${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
    const Model = await modelFor(object.apiVersion, object.kind);
    if (!Model) {
      problems += 1;
      console.error(`${where}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems += 1;
      const details = error?.errors?.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      console.error(`${where}: ${details || error.message}`);
    }
  }
}
if (problems > 0) {
  console.error(`${problems} problem(s) in ${documents} document(s)`);
  process.exit(1);
}
console.log(`${documents} document(s) valid`);
