// The Epoch lab on WebGPU (SwiftShader in headless Chromium): the exact WGSL kernels must give
// the chain's values, agree with the CPU, and fall back to the CPU, saying why, without WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, textNow, SHARED } from './harness.mjs';

let server, browser;
before(async () => { server = await serveDist(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.close(); });

const VECTORS = [
  '000_pub_small_2uid_one_validator', '002_pub_small_4uid_disagree_with_bonds', '010_pub_edge_median_tie',
  '013_pub_edge_yuma3_liquid_alpha', '016_pub_edge_max_validators_2', '021_pub_n64_v16_yuma3_liquid',
  '024_pub_n64_v16_ties_cr', '026_pub_n256_v64_yuma3_liquid', '029_pub_n256_v64_ties_cr',
  '036_pub_n100_v40_yuma3_liquid', '031_pub_n1024_v64_yuma3_liquid',
];

async function runVector(page, name) {
  const before = await textNow(page, 'epoch-engine');
  await page.getByTestId('epoch-file').setInputFiles(join(SHARED, 'vectors/yuma', `${name}.json`));
  // Wait for this file's result (the summary names the vector).
  await page.waitForFunction((n) => document.querySelector('[data-testid="epoch-summary"]')?.textContent.startsWith(n.slice(4))
    || document.querySelector('[data-testid="epoch-error"]'), name, { timeout: 120_000 });
  return before;
}

test('the WebGPU kernels reproduce eleven vectors, up to 1024 uids with Yuma3 liquid alpha', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab`);
  await page.getByTestId('backend-gpu').check();
  for (const name of VECTORS) {
    await runVector(page, name);
    const match = page.getByTestId('epoch-match');
    assert.equal(await match.getAttribute('data-state'), 'match', `${name}: ${await match.textContent()}`);
    const engine = await page.getByTestId('epoch-engine').textContent();
    assert.match(engine, /GPU [\d.]+ ms on .*swiftshader/i, `${name}: ${engine}`);
    assert.doesNotMatch(engine, /unavailable/, engine);
  }
  await screenshot(page, 'epoch-lab-gpu-n1024');
  page.assertClean();
});

test('both engines, cross-checked, agree on every value', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab`);
  await page.getByTestId('backend-both').check();
  await runVector(page, '026_pub_n256_v64_yuma3_liquid');
  assert.equal(await page.getByTestId('epoch-crosscheck').getAttribute('data-state'), 'agree');
  assert.match(await page.getByTestId('epoch-engine').textContent(), /CPU [\d.]+ ms · GPU [\d.]+ ms/);
  page.assertClean();
});

test('without WebGPU the GPU choice says why and the CPU result is shown', async () => {
  const plain = await launchBrowser({ webgpu: false });
  try {
    const page = await openPage(plain);
    await page.goto(`${server.url}/epoch-lab`);
    await page.getByTestId('backend-gpu').check();
    await runVector(page, '013_pub_edge_yuma3_liquid_alpha');
    assert.equal(await page.getByTestId('epoch-match').getAttribute('data-state'), 'match');
    assert.match(await page.getByTestId('epoch-engine').textContent(), /GPU unavailable, computed on the CPU instead: (This browser does not offer WebGPU|WebGPU is present but offered no adapter)/);
    await screenshot(page, 'epoch-lab-no-webgpu');
    page.assertClean();
  } finally {
    await plain.close();
  }
});

test('a GPU device lost before the run gives the CPU result and says so', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab?simulate=gpu-loss`);
  await page.getByTestId('backend-gpu').check();
  await runVector(page, '021_pub_n64_v16_yuma3_liquid');
  assert.equal(await page.getByTestId('epoch-match').getAttribute('data-state'), 'match');
  const engine = await page.getByTestId('epoch-engine').textContent();
  assert.match(engine, /^Engine: CPU [\d.]+ ms · GPU unavailable, computed on the CPU instead: the GPU device failed mid-run: .*(destroyed|lost)/i, engine);
  await screenshot(page, 'epoch-lab-gpu-lost');
  page.assertClean();
});
