#!/usr/bin/env node
// Serves the demo shop (demo/) on 127.0.0.1 — a static server with no dependencies:
//   /sdk/*         the built SDK (js/dist, or $HUNCH_SDK_DIR): index.js, dom.js, hunch.mjs, hunch.wasm
//   /model.hunch   --model FILE, else demo/public/model.hunch (what the main job trains)
//   /<file>        demo/<file>, demo/public/<file>
//   anything else without a file extension: demo/index.html (client-side routes like /p/teapot)
//
// Usage: node scripts/serve-demo.mjs [--port 8080] [--model FILE] [--csp] [--quiet]
//   --port 0 picks a free port. --csp sends the strict policy the SDK promises to work under:
//   script-src 'self' 'wasm-unsafe-eval' (no inline scripts, no eval). Prints the URL on stdout.
//
// Also importable: `const { url, close } = await serveDemo({ port: 0, csp: true })`.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.hunch': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function firstExisting(...files) {
  return files.find((f) => f && fs.existsSync(f) && fs.statSync(f).isFile());
}

// Resolves a URL path to a file, or null. Never leaves the folders it serves from.
function resolve(urlPath, opts) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes('\0')) return null;
  if (p === '/model.hunch') return opts.model;
  const inside = (base, rel) => {
    const f = path.resolve(base, '.' + path.posix.normalize('/' + rel));
    return f === base || f.startsWith(base + path.sep) ? f : null;
  };
  if (p.startsWith('/sdk/')) return firstExisting(inside(opts.sdkDir, p.slice(4)));
  if (p === '/') return path.join(opts.demoDir, 'index.html');
  const file = firstExisting(inside(opts.demoDir, p), inside(path.join(opts.demoDir, 'public'), p));
  if (file) return file;
  // Client-side routes (no extension) get the page; missing files get a 404.
  return path.posix.extname(p) === '' ? path.join(opts.demoDir, 'index.html') : null;
}

export async function serveDemo(options = {}) {
  const demoDir = path.resolve(options.demoDir ?? path.join(root, 'demo'));
  const opts = {
    demoDir,
    sdkDir: path.resolve(options.sdkDir ?? process.env.HUNCH_SDK_DIR ?? path.join(root, 'js/dist')),
    model: options.model
      ? path.resolve(options.model)
      : firstExisting(path.join(demoDir, 'public/model.hunch')),
  };
  if (!opts.model || !fs.existsSync(opts.model)) throw new Error(`serve-demo: no model file (${opts.model ?? 'demo/public/model.hunch: run bash scripts/main.sh'})`);
  if (!fs.existsSync(path.join(opts.sdkDir, 'index.js')))
    throw new Error(`serve-demo: the SDK is not built (${path.join(opts.sdkDir, 'index.js')} is missing): run npm run build in js/`);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers = { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
    if (options.csp) headers['Content-Security-Policy'] = CSP;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolve(url.pathname, opts);
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, {
      ...headers,
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    options.onRequest?.(req.method, url.pathname);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, '127.0.0.1', ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    model: opts.model,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const options = { port: 8080 };
  for (let i = 0; i < args.length; ++i) {
    const a = args[i];
    if (a === '--port') options.port = Number(args[++i]);
    else if (a === '--model') options.model = args[++i];
    else if (a === '--csp') options.csp = true;
    else if (a === '--quiet') options.quiet = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/serve-demo.mjs [--port 8080] [--model FILE] [--csp] [--quiet]');
      process.exit(0);
    } else {
      console.error(`serve-demo: unknown option '${a}' (see --help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    console.error('serve-demo: --port: expected a port number 0…65535');
    process.exit(2);
  }
  if (!options.quiet) options.onRequest = (m, p) => console.error(`${m} ${p}`);
  try {
    const s = await serveDemo(options);
    console.log(`hunch demo: ${s.url}  (model ${path.relative(process.cwd(), s.model)}; Ctrl-C to stop)`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
