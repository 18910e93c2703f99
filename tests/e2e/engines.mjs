// The browser engines the e2e tests run in, behind one interface, so each test runs once per
// engine instead of being copied:
//   chromium: Debian's /usr/bin/chromium through playwright-core (CDP);
//   firefox:  Debian's /usr/bin/firefox-esr through puppeteer-core over WebDriver BiDi.
// Never a tool's own browser download: both are the system's packages (scripts/setup.sh).
//
// launch(engine) resolves to { name, context, page, close }. `context` and `page` offer the part
// of playwright's API the tests use (goto, reload, evaluate, waitForSelector, waitForFunction(fn,
// arg, options), click, check, textContent, getAttribute, screenshot, events request /
// requestfailed / console / pageerror / worker, addInitScript); for Firefox a small adapter maps
// them onto puppeteer. (playwright-core's own Firefox over BiDi, channel 'moz-firefox', does not
// start Firefox ESR 153: it sends emulation.setMediaFeaturesOverride, which ESR lacks.)
//
// HUNCH_ENGINES=chromium,firefox (the default) picks the engines; HUNCH_CHROMIUM / HUNCH_FIREFOX
// name the executables. A missing browser skips that engine's tests with the reason, except on
// CI (CI set), where it fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The drivers are devDependencies of demo/ (npm ci --prefix demo; scripts/setup.sh does it).
const demoRequire = createRequire(path.join(root, 'demo/package.json'));

function driver(name) {
  try {
    return demoRequire(name);
  } catch {
    throw new Error(`${name} is not installed: run \`npm ci --prefix demo\` (scripts/setup.sh)`);
  }
}

export const EXECUTABLES = {
  chromium: process.env.HUNCH_CHROMIUM ?? '/usr/bin/chromium',
  firefox: process.env.HUNCH_FIREFOX ?? '/usr/bin/firefox-esr',
};
const PACKAGES = { chromium: 'chromium', firefox: 'firefox-esr' };

/** The engines to run: HUNCH_ENGINES (comma-separated), default both. */
export const ENGINES = (process.env.HUNCH_ENGINES ?? 'chromium,firefox').split(',').map((s) => s.trim()).filter(Boolean);
for (const e of ENGINES) if (!EXECUTABLES[e]) throw new Error(`HUNCH_ENGINES: unknown engine "${e}" (chromium, firefox)`);

/** Why `engine` cannot run here (its browser is missing), or false. */
export function unavailable(engine) {
  return !fs.existsSync(EXECUTABLES[engine]) && `no ${engine} at ${EXECUTABLES[engine]} (apt-get install ${PACKAGES[engine]}, or set HUNCH_${engine.toUpperCase()})`;
}

/**
 * The node:test `skip` option for an engine's tests: false when it can run; the reason when its
 * browser is missing and CI is not set. On CI a missing browser throws (a failure, not a skip).
 */
export function skipFor(engine) {
  const why = unavailable(engine);
  if (why && process.env.CI) throw new Error(`${why}: the browser tests cannot run on CI`);
  return why;
}

/**
 * Says in the test output (a diagnostic of test `t`) that a check does not run in this engine,
 * and why. The rest of the test still runs and counts.
 */
export function notIn(t, engine, why) {
  t.diagnostic(`not checked in ${engine}: ${why}`);
}

/**
 * Starts `engine` headless with a fresh profile. options: { viewport, chromiumArgs }.
 */
export async function launch(engine, { viewport = { width: 1280, height: 1250 }, chromiumArgs = [] } = {}) {
  const why = unavailable(engine);
  if (why) throw new Error(why);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `hunch-e2e-${engine}-`));
  const cleanup = () => fs.rmSync(userDataDir, { recursive: true, force: true });
  if (engine === 'chromium') {
    const context = await driver('playwright-core').chromium.launchPersistentContext(userDataDir, {
      executablePath: EXECUTABLES.chromium,
      headless: true,
      viewport,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', ...chromiumArgs],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return { name: engine, context, page, close: async () => (await context.close(), cleanup()) };
  }
  const browser = await driver('puppeteer-core').launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: EXECUTABLES.firefox,
    headless: true,
    userDataDir,
    defaultViewport: viewport,
    // Nothing but the page under test on the network: no update checks, telemetry, remote
    // settings or captive-portal probes (the tests count the page's requests).
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
    },
  });
  const raw = (await browser.pages())[0] ?? (await browser.newPage());
  const page = new FirefoxPage(raw);
  const context = {
    pages: () => [page],
    newPage: async () => page,
    on: (event, fn) => page.on(event, fn),
    addInitScript: (fn) => raw.evaluateOnNewDocument(fn),
  };
  return { name: engine, context, page, close: async () => (await browser.close(), cleanup()) };
}

// playwright's page API, the part the tests use, on a puppeteer page.
class FirefoxPage {
  constructor(page) {
    this.raw = page;
  }
  on(event, fn) {
    // puppeteer: 'workercreated' with a WebWorker; its console events come through the page.
    if (event === 'worker') this.raw.on('workercreated', (w) => fn({ url: () => w.url(), on: () => {} }));
    else this.raw.on(event, fn);
  }
  url() {
    return this.raw.url();
  }
  goto(url) {
    return this.raw.goto(url, { waitUntil: 'load' });
  }
  reload() {
    return this.raw.reload({ waitUntil: 'load' });
  }
  evaluate(fn, arg) {
    return this.raw.evaluate(fn, arg);
  }
  waitForSelector(selector, { timeout = 30_000 } = {}) {
    return this.raw.waitForSelector(selector, { timeout });
  }
  // playwright's argument order: (fn, arg, options).
  waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    return this.raw.waitForFunction(fn, { timeout, polling: 50 }, arg);
  }
  waitForTimeout(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
  async click(selector) {
    await this.raw.waitForSelector(selector, { visible: true, timeout: 30_000 });
    await this.raw.click(selector);
  }
  async isChecked(selector) {
    return this.raw.$eval(selector, (e) => e.checked);
  }
  async check(selector) {
    if (!(await this.isChecked(selector))) await this.click(selector);
  }
  async uncheck(selector) {
    if (await this.isChecked(selector)) await this.click(selector);
  }
  textContent(selector) {
    return this.raw.$eval(selector, (e) => e.textContent);
  }
  getAttribute(selector, name) {
    return this.raw.$eval(selector, (e, n) => e.getAttribute(n), name);
  }
  $$eval(selector, fn, arg) {
    return this.raw.$$eval(selector, fn, arg);
  }
  screenshot(options) {
    return this.raw.screenshot(options);
  }
}
