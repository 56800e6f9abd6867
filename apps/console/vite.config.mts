import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// Built to dist/console, which apps/api serves at `/` (the API stays under /v1).
export default defineConfig({
  root,
  base: '/',
  // No @vitejs/plugin-react: a static build needs only the JSX transform, which Vite's oxc does.
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
