// Shared set-up of the browser tests: the demo server, the engines (engines.mjs: Debian's Chromium
// and Firefox ESR, never a downloaded browser), and the SDK loaded in node for parity checks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The browsers (Chromium, Firefox) and their drivers: engines.mjs.
export { ENGINES, launch, notIn, skipFor } from './engines.mjs';

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
