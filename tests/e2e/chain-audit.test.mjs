// The Epoch lab's chain audit against a live localnet: the node runs the demonstration subnet
// (real extrinsics, real spec-103 runtime), the page reads the subnet's last epoch over
// JSON-RPC, recomputes it with the spec-103 engine in wasm, and every stored value matches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet } from './harness.mjs';

let server, browser, localnet, rpc;

before(async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
  localnet = await startLocalnet({ args: ['--backfill', '40', '--block-ms', '400', '--demo-subnet'] });
  rpc = localnet.rpc;
});
after(async () => {
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
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
