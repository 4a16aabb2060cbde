// The Epoch lab's chain audit against a live localnet: the node runs the demonstration subnet
// (real extrinsics, real spec-103 runtime), the page reads the subnet's last epoch over
// JSON-RPC, recomputes it with the spec-103 engine in wasm, and every stored value matches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { serveDist, launchBrowser, openPage, screenshot, ROOT, SHARED } from './harness.mjs';

let server, browser, node, dir, rpc;

/** Starts `taoscope-localnet` (built by the cargo test run before this) and waits until it serves. */
async function startLocalnet() {
  const bin = join(ROOT, 'target', 'debug', 'taoscope-localnet');
  assert.ok(existsSync(bin), `${bin} is missing: build it with cargo build -p taoscope-localnet`);
  dir = mkdtempSync(join(tmpdir(), 'taoscope-localnet-'));
  node = spawn(bin, [
    '--dir', dir, '--rpc-port', '0', '--backfill', '40', '--block-ms', '400', '--demo-subnet',
    '--chain-spec', join(SHARED, 'chainspecs', 'bittensor-testnet-genesis.raw.json'),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: node.stdout });
  const ready = await new Promise((resolve, reject) => {
    node.once('exit', (code) => reject(new Error(`taoscope-localnet exited with ${code}`)));
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  return ready.rpc;
}

before(async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
  rpc = await startLocalnet();
});
after(async () => {
  await browser?.close();
  await server?.close();
  node?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the last epoch of the demo subnet, read from the localnet, matches the chain value for value', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab`);
  await page.getByTestId('chain-audit-endpoint').fill(rpc);
  await page.getByTestId('chain-audit-netuid').fill('1');
  await page.getByTestId('chain-audit-run').click();
  const match = page.getByTestId('chain-audit-match');
  await match.waitFor({ timeout: 60_000 });
  assert.equal(await match.getAttribute('data-state'), 'match', await match.textContent());
  assert.match(await match.textContent(), /Matches the chain: (\d+) of \1 values/);
  const checked = Number((await match.textContent()).match(/of (\d+)/)[1]);
  assert.ok(checked >= 100, `${checked} values`);
  assert.equal(await page.getByTestId('chain-audit-row').count(), 10);
  assert.match(await page.getByTestId('chain-audit-what').textContent(), /node-subtensor 103, recomputed with the spec-103 epoch/);
  assert.match(await page.getByTestId('chain-audit-trust').textContent(), /not yet proven/);
  await screenshot(page, 'chain-audit');
  page.assertClean();
});

test('an endpoint where nothing listens gets an error that says what to check', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab`);
  await page.getByTestId('chain-audit-endpoint').fill('ws://127.0.0.1:9');
  await page.getByTestId('chain-audit-run').click();
  const error = page.getByTestId('chain-audit-error');
  await error.waitFor({ timeout: 30_000 });
  assert.match(await error.textContent(), /cannot reach ws:\/\/127\.0\.0\.1:9: is the node running/);
  // The browser itself logs the failed socket; the page stays usable and says why.
  await page.getByTestId('chain-audit-endpoint').fill('http://example');
  await page.getByTestId('chain-audit-run').click();
  assert.match(await page.getByTestId('chain-audit-error').textContent(), /ws:\/\/ or wss:\/\//);
});
