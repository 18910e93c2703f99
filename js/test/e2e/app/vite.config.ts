// A plain object (no import from 'vite'): nothing here depends on how vite was installed.
export default {
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Readable output when a CSP violation or a missing chunk has to be traced in the browser.
    minify: false,
  },
};
