// The web app builds to dist/, which nginx serves at / (nginx.conf). The inbox
// bundle goes beside it as /inbox/herald-inbox.js, for pages that embed the
// component without the app (see examples/inbox-component.html).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const inboxBundle = resolve(here, '../../packages/inbox/dist/herald-inbox.js');

export default defineConfig({
  resolve: { alias: { '@herald/inbox': resolve(here, '../../packages/inbox/src/index.ts') } },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 400 },
  plugins: [
    {
      name: 'herald-inbox-bundle',
      apply: 'build',
      closeBundle() {
        mkdirSync(resolve(here, 'dist/inbox'), { recursive: true });
        copyFileSync(inboxBundle, resolve(here, 'dist/inbox/herald-inbox.js'));
      },
    },
  ],
});
