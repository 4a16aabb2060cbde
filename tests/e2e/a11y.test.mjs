// Every page, as a person using a screen reader, a keyboard or a phone meets it, on a live
// localnet (verified RPC): axe-core (npm) finds no serious or critical violation on any page in
// either theme (the theme chosen in the header is kept),
// every route loads on a reload of its own address, and at 390 × 844 no page scrolls sideways
// (screenshots in target/e2e/mobile-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, tabTo, ROOT } from './harness.mjs';

const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
/** Each route, and what shows that its content (not only its heading) is there. */
const ROUTES = [
  ['/', '[data-testid="home-subnet"]'],
  ['/account', '[data-testid="watch-address"]'],
  ['/stake', '[data-testid="yields-row"]'],
  ['/subnets', '[data-testid="subnet-row"]'],
  ['/subnets/1', '[data-testid="metagraph-row"]'],
  ['/subnets/1/audit', 'main h1'],
  ['/audit', 'main h1'],
  ['/network', '[data-testid="time-to-value"]'],
  ['/lab', '[data-testid="lab-tools"]'],
  ['/epoch-lab', 'main h1'],
  ['/bench', 'main h1'],
  ['/system', 'main h1'],
  ['/widgets', '[data-testid="widget-snippet"]'],
];
let localnet, server, browser;

before(async () => {
  localnet = await startLocalnet({ args: ['--backfill', '20', '--block-ms', '500', '--demo-subnet'] });
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
});

/** Opens every route by its own address (a reload), each once its content is in. */
async function eachRoute(page, visit) {
  for (const [path, ready] of ROUTES) {
    await page.goto(`${server.url}${path}`);
    await page.locator(ready).first().waitFor({ timeout: 90_000 });
    await visit(path);
  }
}

test('axe-core finds no serious or critical violation on any page, dark or light', async () => {
  // axe is a script of the test's, not the app's: the app's policy would refuse it.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    const found = [];
    await eachRoute(page, async (path) => {
      await page.addScriptTag({ path: AXE });
      // Both themes: the system's dark (the default) and light.
      for (const colorScheme of ['dark', 'light']) {
        await page.emulateMedia({ colorScheme });
        const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
          .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })));
        for (const v of violations) console.log(`${path} (${colorScheme}): ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
        found.push(...violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${path} (${colorScheme}): ${v.id} at ${v.nodes.join(', ')}`));
      }
      await page.emulateMedia({ colorScheme: 'dark' });
    });
    // The theme chosen in the header wins over the system's, and is kept.
    await page.getByTestId('theme-select').selectOption('light');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await page.reload();
    await page.locator('main h1').first().waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
    await screenshot(page, 'theme-light');
    assert.deepEqual(found, [], 'serious or critical accessibility violations');
    page.assertClean();
  } finally {
    await context.close();
  }
});

test('at 390 × 844 every route loads on reload and no page scrolls sideways', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    const wide = [];
    await eachRoute(page, async (path) => {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      await screenshot(page, `mobile-${path === '/' ? 'home' : path.slice(1).replaceAll('/', '-')}`);
      if (width > 390) wide.push(`${path}: ${width} px`);
    });
    assert.deepEqual(wide, [], 'pages wider than the screen');
    // The header folds to one button; opened, it lists every page and closes on the way to one.
    const toggle = page.getByTestId('menu-toggle');
    assert.equal(await page.locator('nav a[href="/subnets"]').isVisible(), false);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    for (const href of ['/', '/account', '/stake', '/subnets', '/audit', '/network', '/lab']) {
      assert.ok(await page.locator(`nav a[href="${href}"]`).isVisible(), `${href} in the open menu`);
    }
    await screenshot(page, 'mobile-menu');
    await page.locator('nav a[href="/subnets"]').click();
    await page.getByTestId('subnet-row').first().waitFor();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'the menu closes on the way to a page');
    page.assertClean();
  } finally {
    await context.close();
  }
});

/** The visible, enabled controls of `main` that Tab does not reach in one pass through the page. */
async function unreachable(page) {
  const controls = await page.evaluate(() => [...document.querySelectorAll('main a[href], main button, main input, main select, main textarea')]
    .filter((el) => !el.disabled && el.offsetParent !== null)
    .map((el, i) => { el.dataset.a11yIndex = String(i); return i; }));
  const reached = new Set();
  await page.locator('body').focus();
  for (let i = 0; i < controls.length * 3 + 40; i++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate(() => document.activeElement?.dataset.a11yIndex);
    if (index !== undefined) reached.add(Number(index));
  }
  return page.evaluate((reached) => [...document.querySelectorAll('[data-a11y-index]')]
    .filter((el) => !reached.includes(Number(el.dataset.a11yIndex)))
    .map((el) => el.id || el.dataset.testid || el.outerHTML.slice(0, 60)), [...reached]);
}

test('keyboard only: the Network page connects and every control is reached; the Subnets pages lead to a metagraph and its audit', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openPage(browser, { context });
  try {
    await page.goto(`${server.url}/network`);
    // Choose the localnet from the header's select, type its address, connect: keys only.
    await tabTo(page, '[data-testid="network-select"]');
    await page.keyboard.press('Home'); // the first network: the localnet
    await tabTo(page, '[data-testid="localnet-rpc"]');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(localnet.rpc);
    await page.keyboard.press('Enter');
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    // Then the same localnet over verified RPC, from the select.
    await tabTo(page, '[data-testid="network-select"]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getByTestId('network-select').inputValue(), 'localnet-verified');
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    assert.deepEqual(await unreachable(page), [], 'controls of the Network page Tab does not reach');

    // Subnets: the list, a subnet's metagraph, its audit.
    await tabTo(page, 'nav a[href="/subnets"]');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="subnet-row"][data-netuid="1"] a').waitFor({ timeout: 60_000 });
    assert.deepEqual(await unreachable(page), [], 'controls of the Subnets page Tab does not reach');
    await tabTo(page, 'main a[href="/subnets/1"]');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="metagraph-row"]').first().waitFor({ timeout: 60_000 });
    await tabTo(page, 'main a[href="/subnets/1/audit"]');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/subnets\/1\/audit$/);
    page.assertClean();
  } finally {
    await context.close();
  }
});
