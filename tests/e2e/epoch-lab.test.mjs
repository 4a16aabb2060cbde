import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { serveDist, launchBrowser, openPage, screenshot, SHARED } from './harness.mjs';

let server, browser;
before(async () => { server = await serveDist(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.close(); });

async function importVector(page, path) {
  await page.goto(`${server.url}/epoch-lab`);
  await page.getByTestId('epoch-file').setInputFiles(path);
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="epoch-match"], [data-testid="epoch-error"]');
    return s !== null;
  }, null, { timeout: 60_000 });
}

test('a public vector imported in the Epoch lab matches the chain', async () => {
  const page = await openPage(browser);
  await importVector(page, join(SHARED, 'vectors/yuma/002_pub_small_4uid_disagree_with_bonds.json'));
  const match = page.getByTestId('epoch-match');
  assert.equal(await match.getAttribute('data-state'), 'match', await match.textContent());
  assert.match(await match.textContent(), /Matches the chain: (\d+) of \1 values/);
  assert.equal(await page.getByTestId('epoch-row').count(), 4);
  await page.getByTestId('bonds-heatmap').waitFor();
  page.assertClean();
});

test('a 1024-uid Yuma3 liquid-alpha epoch matches, and the table sorts by incentive', async () => {
  const page = await openPage(browser);
  await importVector(page, join(SHARED, 'vectors/yuma/031_pub_n1024_v64_yuma3_liquid.json'));
  assert.equal(await page.getByTestId('epoch-match').getAttribute('data-state'), 'match');
  assert.equal(await page.getByTestId('epoch-row').count(), 1024);
  await page.getByRole('button', { name: 'Incentive' }).click();
  const th = page.locator('th[aria-sort="descending"]');
  assert.match(await th.textContent(), /Incentive/);
  const cells = await page.locator('[data-testid="epoch-row"] td:nth-child(3)').evaluateAll((tds) => tds.slice(0, 50).map((td) => Number(td.textContent)));
  assert.deepEqual(cells, [...cells].sort((a, b) => b - a), 'rows are in descending incentive');
  await screenshot(page, 'epoch-lab-n1024');
  page.assertClean();
});

test('a malformed file gets an error naming the field, and the page keeps working', async () => {
  const page = await openPage(browser);
  const dir = mkdtempSync(join(tmpdir(), 'taoscope-e2e-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ schema: 'yuma-epoch-vector/v1', input: { netuid: 'one' } }));
  await importVector(page, bad);
  const error = page.getByTestId('epoch-error');
  assert.match(await error.textContent(), /input\.netuid/);
  await screenshot(page, 'epoch-lab-error');
  // The same page then runs a good file.
  await page.getByTestId('epoch-file').setInputFiles(join(SHARED, 'vectors/yuma/000_pub_small_2uid_one_validator.json'));
  await page.getByTestId('epoch-match').waitFor();
  assert.equal(await page.getByTestId('epoch-match').getAttribute('data-state'), 'match');
  page.assertClean();
});

test('a file dropped on the drop zone runs, and the export is the recomputed epoch', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/epoch-lab`);
  const path = join(SHARED, 'vectors/yuma/013_pub_edge_yuma3_liquid_alpha.json');
  const text = readFileSync(path, 'utf8');
  // A real drop event carrying a real File, as a person dragging from their desktop would send.
  const transfer = await page.evaluateHandle((body) => {
    const dt = new DataTransfer();
    dt.items.add(new File([body], '013_pub_edge_yuma3_liquid_alpha.json', { type: 'application/json' }));
    return dt;
  }, text);
  await page.getByTestId('epoch-dropzone').dispatchEvent('dragover', { dataTransfer: transfer });
  await page.getByTestId('epoch-dropzone').dispatchEvent('drop', { dataTransfer: transfer });
  await page.getByTestId('epoch-match').waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('epoch-match').getAttribute('data-state'), 'match');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('epoch-export').click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.deepEqual(exported, JSON.parse(text).expected, 'the export holds exactly the persisted fields');
  page.assertClean();
});
