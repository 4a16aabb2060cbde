// End-to-end harness: serves dist/ on loopback and drives Debian's Chromium with playwright-core.
// A page fails its test on any uncaught exception or console error; screenshots go to
// target/e2e/ for a person to look at.
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CSP, CSP_EMBED } from '../../scripts/csp.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(ROOT, '../shared');
export const SCREENSHOTS = join(ROOT, 'target', 'e2e');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves dist/ (or another build's folder) on 127.0.0.1 (on `port`, to come back on the same
 * origin) with the app's routes falling back to index.html, every file with the app's
 * Content-Security-Policy header (a violation is a console error: a failed test). `cache`: let
 * the browser keep files for an hour, as a deployment would (the default, no-store, makes every
 * visit fetch everything).
 */
export async function serveDist({ dist = join(ROOT, 'dist'), port = 0, cache = false } = {}) {
  await stat(join(dist, 'index.html')).catch(() => {
    throw new Error('dist/index.html is missing: run `trunk build` first (scripts/test does)');
  });
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    if (path === '/blank.html') {
      // A page of this origin without the app, for tests that talk to a node from the browser
      // (the localnet lets in pages of this machine, not the opaque origin of about:blank).
      res.writeHead(200, { 'content-type': TYPES['.html'], 'content-security-policy': CSP });
      res.end('<!doctype html><title>helper</title>');
      return;
    }
    let file = join(dist, path);
    let body;
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      body = await readFile(file);
    } catch {
      file = join(dist, 'index.html');
      body = await readFile(file);
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': cache ? 'max-age=3600' : 'no-store',
      // The raw path, as the browser and the app read it: `/%65mbed/` is not a widget.
      'content-security-policy': req.url.startsWith('/embed/') ? CSP_EMBED : CSP,
    });
    res.end(body);
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }) };
}

/**
 * Launches Chromium with the flags of shared/docs/toolchain.md (WebGPU on, quiet on a closed
 * network). `{ webgpu: false }` leaves WebGPU off, as in a browser that lacks it.
 */
export async function launchBrowser({ webgpu = true } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      ...(webgpu ? ['--enable-unsafe-webgpu'] : []), '--no-sandbox', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    // playwright gives every launch a fresh, empty profile directory of its own.
  });
}

/** A page that records console errors and uncaught exceptions; `assertClean()` fails on any. */
export async function openPage(browser, { context } = {}) {
  // A page of its own context, or one in `context` (pages of one context share localStorage).
  const page = context ? await context.newPage() : await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('console', (msg) => {
    // Chromium logs every socket it could not open (the light client trying a node that is not
    // running, or restarting); the app says why in its own words, which the tests check.
    if (msg.type() === 'error' && !/^WebSocket connection to '.*' failed/.test(msg.text())) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.assertClean = () => {
    if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  };
  return page;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text of the element with `testId` now, or null when there is none (no waiting). */
export async function textNow(page, testId) {
  const found = page.getByTestId(testId);
  return (await found.count()) > 0 ? found.first().textContent() : null;
}

/** A TCP port nothing listens on right now (for a node that must keep its ports across restarts). */
export async function freePort() {
  const probe = createTcpServer();
  await new Promise((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address();
  await new Promise((ok) => probe.close(ok));
  return port;
}

/**
 * Starts `taoscope-localnet` (built by scripts/test before the e2e tests) and waits for its ready
 * line. `dir` defaults to a fresh temporary directory; pass the same `dir` and ports to restart
 * the same chain. Returns the ready line, the directory, and `stop()` (SIGTERM, then exit).
 */
export async function startLocalnet({ dir, ports = {}, args = [] } = {}) {
  const bin = join(ROOT, 'target', 'debug', 'taoscope-localnet');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it with cargo build -p taoscope-localnet`);
  dir ??= mkdtempSync(join(tmpdir(), 'taoscope-localnet-'));
  const node = spawn(bin, [
    '--dir', dir, '--rpc-port', String(ports.rpc ?? 0), '--p2p-port', String(ports.p2p ?? 0),
    '--ws-port', String(ports.ws ?? 0), ...args,
    '--chain-spec', join(SHARED, 'chainspecs', 'bittensor-testnet-genesis.raw.json'),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: node.stdout });
  const ready = await new Promise((resolve, reject) => {
    node.once('exit', (code) => reject(new Error(`taoscope-localnet exited with ${code}`)));
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  const exited = new Promise((ok) => node.once('exit', ok));
  return { ready, dir, rpc: ready.rpc, stop: async () => { node.kill('SIGTERM'); await exited; } };
}

/**
 * Opens the app's Network page at `serverUrl`, points it at the localnet's JSON-RPC at `rpc` and
 * connects (smoldot-light over p2p); `verified` then chooses "Localnet over verified RPC".
 */
export async function connectLocalnet(page, serverUrl, rpc, { verified = false } = {}) {
  await page.goto(`${serverUrl}/network`);
  await page.getByTestId('localnet-rpc').fill(rpc);
  await page.getByTestId('localnet-connect').click();
  if (verified) await page.getByTestId('network-select').selectOption('localnet-verified');
}

/**
 * `method(params)` over a node's WebSocket JSON-RPC at `url`, from `page` (a page of the app's
 * origin: Node 20 has no WebSocket). The node is trusted here: it is what the page's proofs must
 * agree with.
 */
export async function rpcCall(page, url, method, params) {
  return page.evaluate(async ([url, method, params]) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`${method}: no answer from ${url} in 30 s`)), 30_000);
    const ws = new WebSocket(url);
    ws.onopen = () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
    ws.onmessage = (e) => { const m = JSON.parse(e.data); ws.close(); m.error ? reject(new Error(m.error.message)) : resolve(m.result); };
    ws.onerror = () => reject(new Error(`cannot reach ${url}`));
  }), [url, method, params]);
}

/** Presses Tab until the focused element matches `selector`, at most `presses` times. */
export async function tabTo(page, selector, presses = 80) {
  for (let i = 0; i < presses; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}
