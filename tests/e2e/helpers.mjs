// Shared set-up of the browser tests: the demo server, Debian's Chromium through playwright-core
// (never a downloaded browser), and the SDK loaded in node for parity checks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// playwright-core is a devDependency of demo/ (npm install --prefix demo).
export function playwright() {
  const require = createRequire(path.join(root, 'demo/package.json'));
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: run `npm install --prefix demo`');
  }
}

export const CHROMIUM = process.env.HUNCH_CHROMIUM ?? '/usr/bin/chromium';

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set HUNCH_CHROMIUM)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-e2e-'));
  const context = await playwright().chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1250 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// The model the demo serves in the tests: $HUNCH_DEMO_MODEL, else the one the main job trained
// (demo/public/model.hunch) — always a model trained on the shop data.
export function demoModelPath() {
  const candidates = [process.env.HUNCH_DEMO_MODEL, path.join(root, 'demo/public/model.hunch')];
  const found = candidates.find((f) => f && fs.existsSync(f));
  if (!found) throw new Error('no demo model: run the main job first (bash scripts/main.sh --quick --no-serve)');
  return found;
}

export function sdkDir() {
  return path.resolve(process.env.HUNCH_SDK_DIR ?? path.join(root, 'js/dist'));
}

export async function importSdk() {
  const entry = path.join(sdkDir(), 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`the SDK is not built (${entry} missing): run npm run build in js/`);
  return import(pathToFileURL(entry).href);
}

export function siteMap() {
  return JSON.parse(fs.readFileSync(path.join(root, 'demo/site-map.json'), 'utf8'));
}
