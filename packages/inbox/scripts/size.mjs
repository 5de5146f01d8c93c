// Prints the bundle's size, raw and gzipped (what a browser downloads).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const file = new URL('../dist/herald-inbox.js', import.meta.url);
const bytes = readFileSync(file);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `herald-inbox.js: ${kib(bytes.length)} raw, ${kib(gzipSync(bytes, { level: 9 }).length)} gzipped`,
);
