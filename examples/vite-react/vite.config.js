import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `vite build` needs nothing for hunch: it emits hunch.wasm and the worker as assets. The dev
// server's dependency pre-bundling would move hunch's module away from its hunch.wasm: exclude it.
export default defineConfig({
  plugins: [react()],
  optimizeDeps: { exclude: ['hunch'] },
});
