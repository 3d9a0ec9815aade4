// Starts real VS Code (code-server) with the phxguard extension installed from its .vsix
// and the scenario extension beside it, opens the workbench in headless Chromium, takes
// the screenshot when the scenario asks for it, and reads the notifications the
// workbench shows. Used by tests/editors/test_vscode.py.
//
// Env: PHXGUARD_VSCODE_CACHE (node_modules with code-server and playwright-core),
//      SCENARIO_WORKSPACE, SCENARIO_VSIX, SCENARIO_EXT_VSIX, SCENARIO_TMP, SCENARIO_RESULT,
//      SCENARIO_SERVER (the phxguard executable), SCENARIO_SCREENSHOT, CHROMIUM.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const CACHE = process.env.PHXGUARD_VSCODE_CACHE;
const { chromium } = require(path.join(CACHE, 'node_modules', 'playwright-core'));
const TMP = process.env.SCENARIO_TMP;
const RESULT = process.env.SCENARIO_RESULT;
const WS = process.env.SCENARIO_WORKSPACE;
const ENTRY = path.join(CACHE, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

function healthy(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => { req.destroy(); resolve(false); });
  });
}

async function main() {
  const t0 = Date.now();
  const userData = path.join(TMP, 'user-data');
  const extDir = path.join(TMP, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'security.workspace.trust.enabled': false,
    'phxguard.path': process.env.SCENARIO_SERVER,
    'phxguard.trace.server': 'messages',
  }, null, 2));
  // code-server and Chromium keep logs and state under the XDG dirs: the scratch dir.
  const xdg = {};
  for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) {
    xdg[k] = path.join(TMP, 'xdg', k.toLowerCase());
    fs.mkdirSync(xdg[k], { recursive: true });
  }
  const env = { ...process.env, ...xdg };
  const common = ['--user-data-dir', userData, '--extensions-dir', extDir];

  // Both extensions go in the way users install a .vsix.
  cp.execFileSync(process.execPath, [ENTRY, ...common,
    '--install-extension', process.env.SCENARIO_VSIX,
    '--install-extension', process.env.SCENARIO_EXT_VSIX],
  { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
  const timings = { extension_installed: Date.now() - t0 };

  const port = await freePort();
  const csLog = fs.openSync(path.join(TMP, 'code-server.log'), 'w');
  const cs = cp.spawn(process.execPath, [ENTRY, ...common,
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened', WS],
  { env, stdio: ['ignore', csLog, csLog], detached: true });
  let csExit = null;
  cs.on('exit', (code, signal) => { csExit = { code, signal }; });
  const stop = () => { try { process.kill(-cs.pid, 'SIGTERM'); } catch (e) { /* gone */ } };
  process.on('exit', stop);

  let browser = null;
  const report = { timings_ms: timings, notifications: [], console_errors: [] };
  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60000;
    while (!(await healthy(`${base}/healthz`))) {
      if (csExit) throw new Error(`code-server exited: ${JSON.stringify(csExit)}`);
      if (Date.now() > deadline) throw new Error('code-server did not come up in 60 s');
      await sleep(200);
    }
    timings.code_server_up = Date.now() - t0;
    browser = await chromium.launchPersistentContext(path.join(TMP, 'chromium'), {
      executablePath: process.env.CHROMIUM, headless: true, env,
      viewport: { width: 1280, height: 760 },
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = browser.pages()[0] || (await browser.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' && report.console_errors.length < 20) report.console_errors.push(m.text().slice(0, 300));
    });
    await page.goto(`${base}/?folder=${encodeURIComponent(WS)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    timings.workbench_loaded = Date.now() - t0;

    const limit = Date.now() + 150000;
    let shot = false;
    while (!fs.existsSync(RESULT) && Date.now() < limit && !csExit) {
      if (!shot && fs.existsSync(`${RESULT}.shoot`)) {
        shot = true;
        if (process.env.SCENARIO_SCREENSHOT) await page.screenshot({ path: process.env.SCENARIO_SCREENSHOT });
        fs.writeFileSync(`${RESULT}.shot`, '');
      }
      await sleep(100);
    }
    timings.result = Date.now() - t0;
    // The scenario ends by pointing phxguard.path at nothing: collect the notifications.
    const until = Date.now() + 10000;
    while (Date.now() < until) {
      report.notifications = await page.$$eval('.notifications-toasts .notification-list-item-message',
        (els) => els.map((e) => e.textContent || '')).catch(() => []);
      if (report.notifications.some((t) => t.includes('phxguard'))) break;
      await sleep(200);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    stop();
  }
  fs.writeFileSync(path.join(TMP, 'driver.json'), JSON.stringify(report));
}

main().then(() => process.exit(0), (e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
