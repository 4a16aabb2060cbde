// The app as something people open every day: after one visit the service worker serves it with
// the network cut, and the page says it is offline and what this browser last proved (block and
// age); a new build is found, offered, and taken on the user's word; Simplified Chinese; the
// audit's deep links; the one table. One localnet (verified RPC) for the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, ROOT } from './harness.mjs';
import { writeServiceWorker } from '../../scripts/sw.mjs';

let localnet, browser;
const dirs = [];

before(async () => {
  localnet = await startLocalnet({ args: ['--block-ms', '500', '--demo-subnet'] });
  browser = await launchBrowser({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await localnet?.stop();
  for (const dir of [localnet?.dir, ...dirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Milliseconds from this page's navigation to its first contentful paint and to the header's
 * verified mark (the first finalized block proven in the page).
 */
async function timings(page) {
  const verified = await page.waitForFunction(() => document.querySelector('[data-testid="verified-mark"]') && Math.round(performance.now()),
    null, { timeout: 90_000, polling: 50 });
  const paint = await page.evaluate(() => Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
  return { paint, verified: await verified.jsonValue() };
}

/** A copy of the build, which the test can turn into the next build. */
function copyOfBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'taoscope-build-'));
  dirs.push(dir);
  cpSync(join(ROOT, 'dist'), dir, { recursive: true });
  return dir;
}

test('after one visit the app starts with the network cut, says so, and shows what it last proved', async () => {
  const server = await serveDist();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    const first = await timings(page);
    await page.waitForFunction(() => navigator.serviceWorker.ready.then((r) => r.active?.state === 'activated'), null, { timeout: 60_000 });
    // A returning visit: the service worker serves the app, the client starts from what it
    // proved before. The README's table comes from these lines.
    await page.goto(`${server.url}/`);
    const returning = await timings(page);
    await page.getByTestId('home-subnet').first().waitFor({ timeout: 90_000 });
    returning.subnets = await page.evaluate(() => Math.round(performance.now()));
    console.log(`measure: first visit (Network page, localnet chosen): first paint ${first.paint} ms, verified mark ${first.verified} ms`);
    console.log(`measure: returning visit (Home): first paint ${returning.paint} ms, verified mark ${returning.verified} ms, proven subnets ${returning.subnets} ms`);
    const finalized = Number(await page.getByTestId('finalized-block').textContent());
    assert.ok(finalized > 0);
    assert.equal(await page.getByTestId('offline-notice').count(), 0, 'no offline notice while online');

    // The network cut: the origin's server gone and the browser offline.
    await server.close();
    await context.setOffline(true);
    await page.reload();
    await page.getByTestId('offline-notice').waitFor({ timeout: 30_000 });
    const last = await page.getByTestId('offline-last-proved').textContent();
    const proved = Number(/#(\d+) \(0x/.exec(last)?.[1]);
    assert.ok(proved >= finalized, `the last proved block (${last}) is the newest one seen`);
    assert.match(last, /Localnet.*\(0x[0-9a-f]{8}…\).*\d+ s ago/);
    assert.equal(await page.getByTestId('verified-mark').count(), 0, 'nothing shown as verified offline');
    // Every page of the app is there (the routes are the one cached page).
    await page.goto(`${server.url}/subnets`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await screenshot(page, 'offline');
    // A record in local storage that does not read as ours (anyone on this origin may write
    // there) is not shown, and breaks nothing.
    await page.evaluate(() => localStorage.setItem('taoscope.last-proved.localnet-verified',
      JSON.stringify({ number: 1e9, hash: `0x${'é'.repeat(32)}`, at_ms: 1 })));
    await page.reload();
    await page.getByTestId('offline-notice').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('offline-last-proved').count(), 0, 'a crafted record is not shown');
    page.assertClean();
  } finally {
    await context.close();
    await server.close();
  }
});

test('a new build is found at the next start, offered, and taken only on the user\'s word', async () => {
  // Its own browser context and copy of the build: Playwright's offline emulation (above) holds
  // a service worker's requests for a minute after it ends, which no real browser does.
  const dist = copyOfBuild();
  const server = await serveDist({ dist });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openPage(browser, { context });
  try {
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => navigator.serviceWorker.ready.then((r) => r.active?.state === 'activated'), null, { timeout: 60_000 });
    await page.reload();
    await page.locator('main h1').first().waitFor();
    assert.equal(await page.getByTestId('update-ready').count(), 0, 'no prompt while the build is the same');

    // The next build: one changed file, and the service worker over it, as Trunk's hook writes it.
    const index = join(dist, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('</head>', '<meta name="taoscope-build" content="next" /></head>'));
    await writeServiceWorker(dist, join(ROOT, 'app', 'service-worker.js'));
    await page.reload();
    // The page of the old build runs until the user says otherwise.
    await page.getByTestId('update-ready').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('meta[name="taoscope-build"]').count(), 0);
    await screenshot(page, 'update-ready');
    // A second tab of the old build, with an address typed in: the update taken in the first
    // tab does not reload it (nothing typed is lost); it says it runs the previous version.
    const second = await openPage(browser, { context });
    await second.goto(`${server.url}/account`);
    await second.getByTestId('watch-address').fill('typed, not yet sent');
    await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.getByTestId('update-reload').click()]);
    await second.getByTestId('updated-elsewhere').waitFor({ timeout: 30_000 });
    assert.equal(await second.getByTestId('watch-address').inputValue(), 'typed, not yet sent');
    assert.equal(await second.locator('meta[name="taoscope-build"]').count(), 0, 'the second tab still runs its build');
    second.assertClean();
    await second.close();
    await page.locator('meta[name="taoscope-build"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('main h1').first().waitFor();
    assert.equal(await page.getByTestId('update-ready').count(), 0, 'the new build is the one running');

    // A half-finished deploy: a build's service worker whose files are not all the ones it
    // names (a wasm bundle changed after it was written). It is refused whole; the running build
    // stays, and nothing is offered.
    writeFileSync(index, readFileSync(index, 'utf8').replace('content="next"', 'content="third"'));
    await writeServiceWorker(dist, join(ROOT, 'app', 'service-worker.js'));
    const wasm = join(dist, 'light-worker_bg.wasm');
    writeFileSync(wasm, Buffer.concat([readFileSync(wasm), Buffer.from([0])]));
    const fate = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      await r.update();
      const worker = r.installing;
      if (!worker) return `nothing installing (waiting: ${r.waiting?.state})`;
      for (let waited = 0; waited < 30_000; waited += 100) {
        if (worker.state !== 'installing' && worker.state !== 'parsed') return worker.state;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      return `still ${worker.state} after 30 s`;
    });
    assert.equal(fate, 'redundant', 'a build with a file that is not its own is not installed');
    await page.reload();
    await page.locator('main h1').first().waitFor();
    assert.equal(await page.locator('meta[name="taoscope-build"]').getAttribute('content'), 'next', 'the checked build still runs');
    assert.equal(await page.getByTestId('update-ready').count(), 0);
    page.assertClean();
  } finally {
    await context.close();
    await server.close();
  }
});

test('Simplified Chinese is chosen in the header, shown on Home, Account and the header, and kept; numbers stay exact', async () => {
  const server = await serveDist();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    // A development account (funded): Home shows its balances.
    await page.goto(`${server.url}/account`);
    await page.getByTestId('dev-account').first().click();
    await page.getByTestId('portfolio-balances').waitFor({ timeout: 90_000 });
    await page.goto(`${server.url}/`);
    await page.getByTestId('home-portfolio').waitFor({ timeout: 90_000 });
    const english = await page.getByTestId('home-title').textContent();
    const freeEnglish = await page.locator('[data-testid="home-portfolio"] [data-field="free"]').textContent();

    await page.getByTestId('language-select').selectOption('zh-CN');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal(await page.getByTestId('home-title').textContent(), 'Bittensor，在你的浏览器中验证');
    assert.notEqual(english, 'Bittensor，在你的浏览器中验证');
    assert.equal(await page.locator('nav a[href="/subnets"]').textContent(), '子网');
    await page.locator('[data-testid="home-finalized"]:has-text("已验证")').waitFor({ timeout: 30_000 });
    // The same proven amount, to the rao: only words change with the language.
    const free = page.locator('[data-testid="home-portfolio"] [data-field="free"]');
    assert.match(await free.textContent(), /^\d{1,3}(,\d{3})*\.\d{9} τ$/);
    assert.equal(await free.textContent(), freeEnglish);
    await screenshot(page, 'home-zh-CN');
    await page.addScriptTag({ path: join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
    const serious = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
    assert.deepEqual(serious, [], 'axe-core on the Chinese home page');

    // Kept across visits, and on the staking page.
    await page.goto(`${server.url}/account`);
    await page.getByRole('heading', { level: 1, name: '账户' }).waitFor();
    await page.getByRole('heading', { name: '资产组合' }).waitFor({ timeout: 90_000 });
    assert.equal(await page.locator('[data-testid="portfolio-balances"] th').first().textContent(), '可用');
    await screenshot(page, 'account-zh-CN');
    await page.getByTestId('language-select').selectOption('en');
    assert.equal(await page.getByRole('heading', { level: 1 }).first().textContent(), 'Account');
    page.assertClean();
  } finally {
    await context.close();
    await server.close();
  }
});

test('the audit keeps the epoch opened and the uid explained in its address: a link opens them, a reload keeps them', async () => {
  const server = await serveDist();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    await page.goto(`${server.url}/subnets/1/audit`);
    const row = page.getByTestId('audit-epoch').first();
    await row.waitFor({ timeout: 120_000 });
    const block = await row.getAttribute('data-block');
    await row.getByTestId('audit-open').click();
    await page.getByTestId('audit-why').nth(1).click();
    await page.getByTestId('audit-why-view').waitFor();
    await page.waitForURL((url) => url.search === `?epoch=${block}&uid=1`);

    // The address alone, in a fresh page (a shared link): the same epoch and uid open.
    const other = await openPage(browser, { context });
    await other.goto(`${server.url}/subnets/1/audit?epoch=${block}&uid=1`);
    await other.locator(`[data-testid="audit-why-view"][data-uid="1"]`).waitFor({ timeout: 120_000 });
    // (Its row may be the one kept in this browser from the first page's audit, until proven again.)
    assert.equal(await other.locator(`tr[data-block="${block}"] [data-testid="audit-open"]`).getAttribute('aria-expanded'), 'true');
    await other.reload();
    await other.locator(`[data-testid="audit-why-view"][data-uid="1"]`).waitFor({ timeout: 120_000 });
    // A uid the epoch does not have, and an epoch the page never audited, are said, never
    // shown as zeros or silently dropped.
    await other.goto(`${server.url}/subnets/1/audit?epoch=${block}&uid=60000`);
    await other.getByTestId('audit-uid-absent').waitFor({ timeout: 120_000 });
    assert.equal(await other.getByTestId('audit-why-view').count(), 0);
    await other.goto(`${server.url}/subnets/1/audit?epoch=1`);
    await other.getByTestId('audit-epoch-absent').waitFor({ timeout: 120_000 });
    // Closing the epoch clears the address.
    await page.locator(`tr[data-block="${block}"] [data-testid="audit-open"]`).click();
    await page.waitForURL((url) => url.search === '');
    page.assertClean();
    other.assertClean();
  } finally {
    await context.close();
    await server.close();
  }
});

test('one table for every list: each column sorts by value, by mouse or keys, and an address is copied whole', async () => {
  const server = await serveDist();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    await page.goto(`${server.url}/subnets/1`);
    await page.getByTestId('metagraph-row').first().waitFor({ timeout: 90_000 });
    const column = (field) => page.locator(`[data-testid="metagraph-row"] [data-field="${field}"]`)
      .evaluateAll((cells) => cells.map((c) => c.dataset.raw));
    const uids = () => page.getByTestId('metagraph-row').evaluateAll((rows) => rows.map((r) => Number(r.dataset.uid)));
    const asChain = await uids();
    assert.deepEqual(asChain, [...asChain].sort((a, b) => a - b), 'uids in order before any sort');
    const header = page.locator('[data-testid="metagraph-table"] th', { hasText: 'Stake' });
    // Stake moves block by block on the demo subnet: each reading is checked in itself.
    const sorted = (values, descending) => values.every((v, i) => i === 0 || (descending ? values[i - 1] >= v : values[i - 1] <= v));

    await header.getByTestId('sort').click();
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    assert.ok(sorted((await column('stake')).map(BigInt), false), 'by stake, exact rao, ascending');
    // The keyboard does the same: Enter on the focused header.
    await header.getByTestId('sort').focus();
    await page.keyboard.press('Enter');
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.ok(sorted((await column('stake')).map(BigInt), true), 'descending');
    await page.keyboard.press('Enter');
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    assert.deepEqual(await uids(), asChain, 'a third time: the chain\'s order');

    // An address shortened on screen, copied whole.
    const copy = page.locator('[data-testid="metagraph-row"] [data-field="hotkey"]').first().getByTestId('copy');
    const hotkey = await copy.getAttribute('data-value');
    assert.match(hotkey, /^5[1-9A-HJ-NP-Za-km-z]{47}$/);
    await copy.click();
    await page.waitForFunction((hotkey) => navigator.clipboard.readText().then((text) => text === hotkey), hotkey, { timeout: 10_000 });

    // The subnets list is the same table.
    await page.goto(`${server.url}/subnets`);
    await page.getByTestId('subnet-row').first().waitFor({ timeout: 90_000 });
    const netuids = () => page.getByTestId('subnet-row').evaluateAll((rows) => rows.map((r) => Number(r.dataset.netuid)));
    const listed = await netuids();
    const netuidHeader = page.locator('[data-testid="subnets-table"] th', { hasText: 'Netuid' }).getByTestId('sort');
    await netuidHeader.click();
    await netuidHeader.click();
    assert.deepEqual(await netuids(), [...listed].sort((a, b) => b - a));
    page.assertClean();
  } finally {
    await context.close();
    await server.close();
  }
});
