// The Benchmark page in headless Chromium: CPU against WebGPU (SwiftShader) on one epoch and a
// batch of what-if variations, with progress on the way and every value cross-checked. The
// numbers are printed for the record, never asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, textNow, SHARED } from './harness.mjs';

let server, browser;
before(async () => { server = await serveDist(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.close(); });

async function bench(page, file, batch, iters) {
  await page.getByTestId('bench-file').setInputFiles(join(SHARED, 'vectors/yuma-bench', file));
  await page.getByTestId('bench-chosen').waitFor();
  await page.getByTestId('bench-batch').fill(String(batch));
  await page.getByTestId('bench-batch').dispatchEvent('change');
  await page.getByTestId('bench-iters').fill(String(iters));
  await page.getByTestId('bench-iters').dispatchEvent('change');
  await page.getByTestId('bench-run').click();
  await page.waitForSelector('[data-testid="bench-table"], [data-testid="bench-error"]', { timeout: 300_000 });
  const error = await textNow(page, 'bench-error');
  assert.equal(error, null, error);
  const rows = await page.getByTestId('bench-row').evaluateAll((trs) =>
    trs.map((tr) => ({ epochs: tr.dataset.epochs, agree: tr.dataset.agree, cells: [...tr.cells].map((td) => td.textContent) })));
  const adapter = await page.getByTestId('bench-adapter').textContent();
  console.log(`# bench ${file}, batch ${batch}: ${adapter}`);
  for (const row of rows) console.log(`#   ${row.cells.join(' | ')}`);
  return { rows, adapter };
}

test('one 1024-uid epoch and a batch of 64 on CPU and WebGPU, identical values', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/bench`);
  assert.equal(await page.getByTestId('bench-run').isDisabled(), true, 'nothing to run before a file is chosen');
  const progress = page.waitForSelector('[data-testid="bench-progress"]', { timeout: 60_000 });
  const { rows, adapter } = await bench(page, 'bench_n1024_y3la.json', 64, 1);
  await progress; // progress was shown while it ran
  assert.match(adapter, /GPU: .*swiftshader/i);
  assert.deepEqual(rows.map((r) => r.epochs), ['1', '64']);
  for (const row of rows) {
    assert.equal(row.agree, 'true', row.cells.join(' | '));
    assert.match(row.cells[1], /^\d+\.\d$/);
    assert.match(row.cells[2], /^\d+\.\d$/);
    assert.match(row.cells[3], /^\d+\.\d\d×$/);
  }
  assert.equal(rows[1].cells[4], '2', 'the batch of 64 is one submission per stage');
  await page.getByTestId('bench-software').waitFor();
  await screenshot(page, 'bench-n1024-batch64');
  page.assertClean();
});

test('one 4096-uid epoch on CPU and WebGPU', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/bench`);
  const { rows } = await bench(page, 'bench_n4096_y3la.json', 1, 1);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].agree, 'true');
  page.assertClean();
});

test('without WebGPU the benchmark times the CPU and says why there is no GPU column', async () => {
  const plain = await launchBrowser({ webgpu: false });
  try {
    const page = await openPage(plain);
    await page.goto(`${server.url}/bench`);
    const { rows, adapter } = await bench(page, 'bench_n256_y2.json', 4, 1);
    assert.match(adapter, /GPU unavailable, CPU times only: /);
    assert.equal(rows.length, 2);
    assert.equal(rows[1].cells[2], '–');
    page.assertClean();
  } finally {
    await plain.close();
  }
});
