// Loaded only in node, when no wasm location was given (kept off the browser's download path).
import { HunchEnvironmentError } from './errors.js';
import { nodeImport } from './env.js';
import { wasmUrl } from './runtime.js';

// Node, default location: the package's own hunch.wasm. A server bundle (Next.js) may have
// rewritten `new URL('./hunch.wasm', import.meta.url)` into the path its static assets are served
// under, which node cannot read (or parse): then node resolves the package file itself.
export async function nodeWasmUrl(): Promise<URL> {
  try {
    const u = wasmUrl({});
    if (u.protocol === 'file:' && (await nodeImport('fs')).existsSync(u)) return u;
  } catch {
    // unparsable: a bundler's rewrite
  }
  const [{ createRequire }, { pathToFileURL }] = await Promise.all([nodeImport('module'), nodeImport('url')]);
  for (const base of [import.meta.url, pathToFileURL((globalThis as any).process.cwd() + '/').href]) {
    try {
      return pathToFileURL(createRequire(base).resolve('hunch/hunch.wasm'));
    } catch {
      // not resolvable from there: the next base
    }
  }
  throw new HunchEnvironmentError(
    "could not find hunch.wasm: the package's file does not resolve from here (a server bundle? keep hunch external, e.g. Next.js serverExternalPackages: ['hunch'], or pass wasmBinary)",
  );
}
