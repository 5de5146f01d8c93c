// Library mode: one ES module with socket.io-client bundled in, so a host page
// loads a single file from the gateway and nothing from anyone else.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'herald-inbox.js' },
    target: 'es2022',
    sourcemap: true,
    // library mode leaves an ES bundle unminified by default; a page downloads this file as is
    minify: true,
    rolldownOptions: { output: { minify: true } },
    emptyOutDir: true,
  },
});
