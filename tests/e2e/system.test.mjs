import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, ROOT } from './harness.mjs';

let server, browser;
before(async () => { server = await serveDist(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.close(); });

test('System page shows the build and the SwiftShader WebGPU adapter', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/system`);
  await page.getByTestId('app-version').waitFor();
  assert.match(await page.getByTestId('app-version').textContent(), /^\d+\.\d+\.\d+$/);
  assert.ok((await page.getByTestId('app-commit').textContent()).trim().length > 0);

  const status = page.getByTestId('webgpu-status');
  await page.waitForFunction(() => document.querySelector('[data-testid="webgpu-status"]')?.dataset.state);
  assert.equal(await status.getAttribute('data-state'), 'adapter', `no adapter: ${await status.textContent()}`);
  const adapter = `${await page.getByTestId('webgpu-adapter').textContent()} ${await page.getByTestId('webgpu-architecture').textContent()}`;
  assert.match(adapter, /swiftshader/i);
  assert.match(await page.getByTestId('webgpu-fallback').textContent(), /^yes/);
  assert.match(await page.getByTestId('webgpu-limits').textContent(), /maxComputeWorkgroupSizeX\s*\d+/);
  await screenshot(page, 'system');
  page.assertClean();
});

test('the header offers the networks; Finney waits for a checkpoint, and a bad one is refused in words', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/system`);
  const options = await page.getByTestId('network-select').locator('option').allTextContents();
  assert.deepEqual(options, ['Localnet (this machine)', 'Localnet over verified RPC', 'Imported chain spec', 'Finney (mainnet, verified RPC)']);
  await page.getByTestId('network-select').selectOption('finney');
  await page.reload();
  assert.equal(await page.getByTestId('network-select').inputValue(), 'finney', 'the choice survives a reload');
  assert.match(await page.getByTestId('connection-state').textContent(), /Not connected: no checkpoint yet/);
  await page.goto(`${server.url}/network`);
  assert.equal(await page.getByTestId('endpoints').inputValue(), 'wss://entrypoint-finney.opentensor.ai:443');
  await page.getByTestId('checkpoint-text').fill('{"version": 2}');
  await page.getByTestId('checkpoint-import').click();
  assert.match(await page.getByTestId('checkpoint-error').textContent(), /format version 2/);
  await page.getByTestId('checkpoint-text').fill('not json');
  await page.getByTestId('checkpoint-import').click();
  assert.match(await page.getByTestId('checkpoint-error').textContent(), /not JSON/);
  // A good checkpoint of another chain (the localnet's, shipped with the app) is not Finney's.
  await page.getByTestId('checkpoint-text').fill(readFileSync(join(ROOT, 'public/checkpoints/localnet.json'), 'utf8'));
  await page.getByTestId('checkpoint-import').click();
  assert.match(await page.getByTestId('checkpoint-error').textContent(), /another chain .* not Finney \(genesis 0x2f0555cc/);
  assert.match(await page.getByTestId('connection-state').textContent(), /Not connected: no checkpoint yet/);
  page.assertClean();
});

test('an unknown address says so and links back', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/no-such-page`);
  await page.getByText('Page not found').waitFor();
  page.assertClean();
});
