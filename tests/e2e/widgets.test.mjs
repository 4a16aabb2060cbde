// Widgets on another site, end to end: a host page served from another origin (another port on
// loopback) under a strict Content-Security-Policy embeds the four widgets with widgets.js,
// against one live localnet with the demonstration subnets:
// - each widget shows verified values equal to the node's own storage at the block it names
//   (and the audit verdict equal to `taoscope audit` for that epoch); one light client runs for
//   the page (one shared worker, and each frame's client reports four pages);
// - the stake widget, with the test wallet injected only into the host's top frame (relayed by
//   the loader), stakes; the host receives taoscope:staked and the chain holds the stake;
// - forged messages (wrong shape, from another origin's frame, a changed payload signed) change
//   nothing and are reported; a forged event posted to the host is not dispatched;
// - an unreachable endpoint: a clear error in each widget, and taoscope:error;
// - the app's Widgets page previews a widget live (the loader and its frame) with its snippet.
// Time from page load to the first verified value (cold, warm) and the bytes the embed adds are
// printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, freePort, ROOT } from './harness.mjs';

const ARGS = ['--backfill', '40', '--block-ms', '300', '--demo-subnets', '3'];
const CLI = join(ROOT, 'target', 'debug', 'taoscope');
const PROTOCOL = 'taoscope-widget/v1';
const TAO = 1_000_000_000n;
let localnet, api, keyring, app, host, third, browser;
const measured = [];

/** A plain HTTP server on loopback answering `route(path)` → [status, headers, body]. */
async function serve(route) {
  const server = createServer((req, res) => {
    const [status, headers, body] = route(new URL(req.url, 'http://x'));
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }) };
}

before(async () => {
  localnet = await startLocalnet({ args: ARGS });
  api = await ApiPromise.create({ provider: new WsProvider(localnet.rpc), throwOnConnect: true, noInitWarn: true });
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  // Files cached by the browser like a deployment serves them: the warm visit is what it is.
  app = await serveDist({ cache: true });
  // Another origin with nothing of taoscope: a frame that forges messages from there.
  third = await serve(() => [200, { 'content-type': 'text/html', 'content-security-policy': "default-src 'none'" }, '<!doctype html><title>third</title>']);
  // The host site: the loader from taoscope's origin, the four elements, the third origin's frame;
  // a strict policy that lets in only those (no inline script, no other frames).
  host = await serve((url) => {
    const rpc = url.searchParams.get('rpc') ?? localnet.rpc;
    const hotkey = keyring.addFromUri('//Hotkey0').address;
    const common = `network="localnet" rpc="${rpc}"`;
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A subnet's site</title>
<script src="${app.url}/widgets.js"></script></head><body>
<h1>A subnet's site</h1>
<taoscope-subnet id="subnet" netuid="1" ${common}></taoscope-subnet>
<taoscope-validator id="validator" hotkey="${hotkey}" ${common}></taoscope-validator>
<taoscope-audit id="audit" netuid="1" ${common} theme="dark"></taoscope-audit>
<taoscope-stake id="stake" hotkey="${hotkey}" netuid="1" ${common}></taoscope-stake>
<iframe id="third" src="${third.url}/" title="another site"></iframe>
</body></html>`;
    const csp = `default-src 'none'; script-src ${app.url}/widgets.js; frame-src ${app.url} ${third.url}; style-src 'none'; base-uri 'none'; form-action 'none'`;
    return [200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store' }, html];
  });
  browser = await launchBrowser({ webgpu: false });
});
after(async () => {
  for (const line of measured) console.log(line);
  await api?.disconnect();
  await browser?.close();
  for (const server of [app, host, third]) await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
});

/**
 * A context whose host pages record every taoscope event (with its time since navigation) and
 * whose top frame only has the test wallet (//Coldkey9, signing through polkadot.js's code;
 * `window.__tamper` makes it sign a changed payload).
 */
async function hostContext() {
  const coldkey = keyring.addFromUri('//Coldkey9');
  const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
  await context.exposeBinding('__testWalletSign', async (_source, payload, tamper) => {
    api.registry.setSignedExtensions(payload.signedExtensions);
    // A host that signs something else than what the widget showed: here, another nonce.
    const signed = tamper ? { ...payload, nonce: `0x${(Number(payload.nonce) + 1).toString(16).padStart(8, '0')}` } : payload;
    return { id: 1, signature: api.registry.createType('ExtrinsicPayload', signed, { version: payload.version }).sign(coldkey).signature };
  });
  await context.addInitScript((accounts) => {
    if (window !== window.top) return; // the wallet injects into the top frame only
    window.__events = [];
    for (const type of ['ready', 'verified', 'staked', 'error', 'rejected']) {
      document.addEventListener(`taoscope:${type}`, (e) => window.__events.push({ type, id: e.target.id, detail: e.detail, ms: performance.now() }));
    }
    window.injectedWeb3 = { 'taoscope-test-wallet': { version: '0.1.0', enable: async () => ({
      accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
      signer: { signPayload: (payload) => window.__testWalletSign(payload, Boolean(window.__tamper)) },
    }) } };
  }, [{ address: coldkey.address, name: 'nominator', type: 'sr25519' }]);
  return { context, coldkey };
}

const events = (page, type, id) => page.evaluate(([type, id]) => window.__events.filter((e) => e.type === type && (!id || e.id === id)), [type, id]);

async function waitForEvent(page, type, id, timeout = 90_000) {
  await page.waitForFunction(([type, id]) => window.__events.some((e) => e.type === type && e.id === id), [type, id], { timeout })
    .catch(async (e) => {
      await screenshot(page, `widgets-${type}-${id}`);
      throw new Error(`${e.message}: no taoscope:${type} from #${id}; events: ${JSON.stringify(await page.evaluate(() => window.__events.map((e) => [e.type, e.id, e.detail?.message])))}`);
    });
  return (await events(page, type, id)).at(-1);
}

/** The frame of widget `kind` (its element's id is its kind; the loader's shadow root is closed). */
function frameOf(page, kind) {
  const frame = page.frames().find((f) => f.url().includes(`/embed/${kind}?`));
  assert.ok(frame, `the ${kind} widget's frame`);
  return frame;
}

/** Storage `pallet.entry(keys…)` of the node at block `hash`, through polkadot.js. */
async function storageAt(hash, entry, ...keys) {
  const at = await api.at(hash);
  return at.query.subtensorModule[entry](...keys);
}

test('four widgets on another site: verified values equal to the node, one light client, staking through the top frame wallet, forgeries refused', async () => {
  const { context, coldkey } = await hostContext();
  const page = await openPage(browser, { context });
  try {
    await page.goto(`${host.url}/`);
    for (const id of ['subnet', 'validator', 'audit', 'stake']) await waitForEvent(page, 'ready', id, 30_000);
    const subnet = await waitForEvent(page, 'verified', 'subnet');
    const audit = await waitForEvent(page, 'verified', 'audit', 120_000);
    const validator = await waitForEvent(page, 'verified', 'validator', 120_000);
    const ready = (await events(page, 'ready', 'subnet'))[0];
    measured.push(`first verified value (cold): ${Math.round(subnet.ms)} ms after the host page started loading (audit ${Math.round(audit.ms)} ms, validator ${Math.round(validator.ms)} ms; the subnet frame's wasm ran at ${Math.round(ready.ms)} ms)`);

    // One light client for the page: one shared worker, and its client serves the four frames.
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = await cdp.send('Target.getTargets');
    const shared = targetInfos.filter((t) => t.type === 'shared_worker');
    assert.equal(shared.length, 1, JSON.stringify(targetInfos.map((t) => [t.type, t.url])));
    assert.ok(!targetInfos.some((t) => t.type === 'worker' || t.type === 'service_worker'), 'no other worker');
    for (const id of ['subnet', 'validator', 'audit', 'stake']) {
      await frameOf(page, id).locator('[data-testid="widget"][data-pages="4"]').waitFor({ timeout: 30_000 });
    }

    // The subnet widget: what the node stores at the block the widget names.
    const { value: s, block } = subnet.detail;
    const frame = frameOf(page, 'subnet');
    // The frame shows the block it read at (by now perhaps a newer one: it reads at each).
    assert.ok(Number(await frame.getByTestId('widget-block').getAttribute('data-block-number')) >= block.number);
    assert.equal(s.uids, (await storageAt(block.hash, 'subnetworkN', 1)).toNumber());
    assert.equal(s.tempo, (await storageAt(block.hash, 'tempo', 1)).toNumber());
    assert.equal(s.maxValidators, (await storageAt(block.hash, 'maxAllowedValidators', 1)).toNumber());
    const permits = (await storageAt(block.hash, 'validatorPermit', 1)).filter((p) => p.isTrue).length;
    assert.equal(s.validators, permits);
    assert.equal(BigInt(s.emission), (await storageAt(block.hash, 'emissionValues', 1)).toBigInt());
    assert.equal(Number(await frame.getByTestId('widget-uids').getAttribute('data-raw')), s.uids);
    console.log(`subnet widget at #${block.number}: ${JSON.stringify(s)}`);

    // The audit widget: the same epoch audited by the CLI (its own verified RPC client).
    const a = audit.detail.value;
    assert.ok(a.exact && a.mismatches === 0 && a.checked > 0, JSON.stringify(a));
    const cli = spawnSync(CLI, ['audit', '--netuid', '1', '--network', 'localnet', '--rpc', localnet.rpc, '--epochs', '40', '--json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const report = JSON.parse(cli.stdout);
    const same = report.epochs.find((e) => e.block.number === a.epoch);
    assert.ok(same, `taoscope audit holds epoch #${a.epoch}`);
    assert.equal(same.checked, a.checked);
    assert.equal(same.mismatches.length, 0);
    assert.equal(await frameOf(page, 'audit').getByTestId('widget-verdict').getAttribute('data-checked'), String(a.checked));

    // The validator widget: stake, take and stakers at the epoch block it names.
    const v = validator.detail.value;
    const epochHash = (await api.rpc.chain.getBlockHash(v.epochBlock)).toHex();
    assert.equal(BigInt(v.stake), (await storageAt(epochHash, 'totalHotkeyStake', v.hotkey)).toBigInt());
    assert.equal(v.take, (await storageAt(epochHash, 'delegates', v.hotkey)).toNumber());
    const stakers = (await (await api.at(epochHash)).query.subtensorModule.stake.entries(v.hotkey)).length;
    assert.equal(v.nominators, stakers - 1, 'stakers other than the owner');
    assert.deepEqual(v.subnets, [1]);
    assert.ok(v.yearlyYield > 0);

    // The host's look reaches the frame (theme, a CSS custom property), and a changed
    // attribute re-renders: subnet 2 at a newer block.
    assert.equal(await frameOf(page, 'audit').evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.evaluate(() => {
      const element = document.querySelector('#subnet');
      element.style.setProperty('--taoscope-accent', '#c026d3');
      element.setAttribute('netuid', '2');
    });
    await page.waitForFunction(() => window.__events.some((e) => e.type === 'verified' && e.id === 'subnet' && e.detail.value.netuid === 2), null, { timeout: 30_000 });
    assert.equal(await frameOf(page, 'subnet').evaluate(() => document.documentElement.style.getPropertyValue('--accent')), '#c026d3');

    // Forged messages into the stake widget: from the host with a wrong shape and an answer to
    // no question, and a well-formed answer from another window than the host (a script in the
    // frame posting to itself). Nothing changes; each is counted in the widget and reported.
    const thirdFrame = page.frames().find((f) => f.url().startsWith(third.url));
    await page.evaluate(([origin, protocol]) => {
      const target = document.querySelector('#stake').frame.contentWindow;
      target.postMessage('not json', origin);
      target.postMessage(JSON.stringify({ taoscope: protocol, type: 'wallet-answer', id: 4242, ok: { signature: '0x00' } }), origin);
    }, [app.url, PROTOCOL]);
    await frameOf(page, 'stake').evaluate((protocol) => {
      window.postMessage(JSON.stringify({ taoscope: protocol, type: 'wallet-answer', id: 1, ok: [] }), '*');
    }, PROTOCOL);
    // Another origin's frame on the page cannot even reach the widgets (their frames are in
    // closed shadow roots), and an event it forges to the host is not dispatched.
    const reachable = await thirdFrame.evaluate((protocol) => {
      parent.postMessage(JSON.stringify({ taoscope: protocol, type: 'staked', extrinsicHash: `0x${'11'.repeat(32)}`, block: `0x${'22'.repeat(32)}` }), '*');
      return parent.frames.length;
    }, PROTOCOL);
    assert.equal(reachable, 1, 'only the third frame itself is in the host\'s frames');
    const rejected = frameOf(page, 'stake').getByTestId('widget-rejected');
    await page.waitForFunction(() => window.__events.filter((e) => e.type === 'rejected' && e.id === 'stake').length >= 3, null, { timeout: 10_000 })
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.__events.filter((e) => e.type === 'rejected')))}; ${await frameOf(page, 'stake').locator('body').textContent()}`); });
    assert.equal(await rejected.getAttribute('data-count'), '3');
    const whys = (await events(page, 'rejected', 'stake')).map((e) => e.detail.why);
    assert.ok(whys.some((w) => /not JSON/.test(w)) && whys.some((w) => /no question asked/.test(w)) && whys.some((w) => /other than the embedding page/.test(w)), whys.join('; '));
    assert.equal((await events(page, 'staked')).length, 0, 'a forged event is not dispatched');
    assert.ok(await page.evaluate(() => window.taoscopeWidgets.ignored()) >= 1, 'the loader counted the forgery');

    // Staking from the widget: no wallet in its frame, the host's relayed.
    const stake = frameOf(page, 'stake');
    await stake.locator('[data-testid="widget-wallet"][data-wallet="taoscope-test-wallet"]').click({ timeout: 30_000 });
    await stake.locator(`[data-testid="widget-account-choice"][data-address="${coldkey.address}"]`).click();
    await stake.getByTestId('arg-hotkey').waitFor({ timeout: 30_000 });
    assert.equal(await stake.getByTestId('arg-hotkey').inputValue(), v.hotkey);
    assert.deepEqual(await stake.locator('[data-testid="move-select"] option').evaluateAll((os) => os.map((o) => o.dataset.call)), ['add_stake']);
    const before = (await api.query.subtensorModule.stake(v.hotkey, coldkey.address)).toBigInt();
    await stake.getByTestId('arg-amount_staked').fill('5');
    await stake.getByTestId('stake-review').click();
    await stake.getByTestId('stake-review-panel').waitFor({ timeout: 30_000 });
    assert.equal(await stake.getByTestId('review-call').textContent(), 'SubtensorModule.add_stake');
    await stake.getByTestId('stake-sign').click();
    const staked = await waitForEvent(page, 'staked', 'stake', 90_000);
    assert.match(staked.detail.extrinsicHash, /^0x[0-9a-f]{64}$/);
    const inBlock = await api.at(staked.detail.block);
    const after = (await inBlock.query.subtensorModule.stake(v.hotkey, coldkey.address)).toBigInt();
    assert.ok(after - before >= 5n * TAO, `stake ${before} → ${after} at ${staked.detail.block}`);
    await screenshot(page, 'widgets-host');

    // A host that relays a signature over a changed payload: refused before anything is sent.
    await page.evaluate(() => { window.__tamper = true; });
    const errorsBefore = (await events(page, 'error', 'stake')).length;
    const nonce = (await api.rpc.system.accountNextIndex(coldkey.address)).toNumber();
    await stake.getByTestId('arg-amount_staked').fill('3');
    await stake.getByTestId('stake-review').click();
    await stake.getByTestId('stake-sign').click({ timeout: 30_000 });
    await stake.locator('[data-testid="stake-result"][data-state="failed"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction((n) => window.__events.filter((e) => e.type === 'error' && e.id === 'stake').length > n, errorsBefore, { timeout: 10_000 });
    assert.equal((await api.rpc.system.accountNextIndex(coldkey.address)).toNumber(), nonce, 'nothing was sent');
    assert.equal((await events(page, 'staked')).length, 1);

    // Warm: the host page visited again (the browser's cache, this browser's saved client
    // state; a new shared worker, the last frame having gone with the page).
    await page.goto(`${host.url}/`);
    const warm = await waitForEvent(page, 'verified', 'subnet');
    const readyAgain = (await events(page, 'ready', 'subnet'))[0];
    measured.push(`first verified value (warm, visited again): ${Math.round(warm.ms)} ms after the host page started loading (the subnet frame's wasm ran at ${Math.round(readyAgain.ms)} ms)`);
    // What the embed adds to the host page: every file of taoscope's its frames fetched, the
    // shared worker's (fetched once, by the worker), and the loader; raw and gzip (as a server
    // compresses them), each file once (the frames fetch the same files: the HTTP cache serves
    // the second).
    const paths = new Set(['/index.html', '/widgets.js', '/light-shared-worker.js', '/light-worker_loader.js', '/light-worker.js', '/light-worker_bg.wasm']);
    let fetched = 0;
    for (const f of page.frames()) {
      if (!f.url().startsWith(app.url)) continue;
      for (const entry of await f.evaluate(() => performance.getEntriesByType('resource').map((e) => [e.name, e.transferSize]))) {
        paths.add(new URL(entry[0]).pathname);
        fetched += entry[1];
      }
    }
    let raw = 0;
    let gzip = 0;
    for (const path of paths) {
      const file = path.startsWith('/embed/') ? 'index.html' : path.slice(1);
      const bytes = readFileSync(join(ROOT, 'dist', file));
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 6 }).length;
    }
    const loader = readFileSync(join(ROOT, 'dist', 'widgets.js'));
    measured.push(`loader widgets.js: ${loader.length} B, ${gzipSync(loader, { level: 9 }).length} B gzip`);
    measured.push(`the embed adds ${paths.size} files: ${(raw / 1024).toFixed(0)} KiB raw, ${(gzip / 1024).toFixed(0)} KiB gzip; on the warm visit the frames transferred ${(fetched / 1024).toFixed(0)} KiB (uncompressed server)`);
    page.assertClean();
  } finally {
    await context.close();
  }
});

test('an unreachable endpoint: a clear error inside each widget, and taoscope:error', async () => {
  const { context } = await hostContext();
  const page = await openPage(browser, { context });
  try {
    const closed = await freePort();
    await page.goto(`${host.url}/?rpc=${encodeURIComponent(`ws://127.0.0.1:${closed}`)}`);
    for (const id of ['subnet', 'validator', 'audit', 'stake']) {
      const error = await waitForEvent(page, 'error', id, 60_000);
      assert.match(error.detail.message, /cannot reach|could not|refused|unreachable|no endpoint/i, error.detail.message);
      const shown = await frameOf(page, id).getByTestId('widget-error').textContent();
      assert.match(shown, /cannot reach|could not|refused|unreachable|no endpoint/i, shown);
    }
    assert.equal((await events(page, 'verified')).length, 0);
    await screenshot(page, 'widgets-unreachable');
  } finally {
    await context.close();
  }
});

test('the Widgets page previews each widget live and gives its snippet and policy lines', async () => {
  const page = await openPage(browser);
  try {
    await connectLocalnet(page, app.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    await page.goto(`${app.url}/widgets`);
    const snippet = page.getByTestId('widget-snippet');
    assert.match(await snippet.textContent(), new RegExp(`<script src="${app.url}/widgets.js" defer></script>\\n<taoscope-subnet netuid="1" network="localnet" rpc="${localnet.rpc}"></taoscope-subnet>`));
    assert.equal(await page.getByTestId('widget-csp').textContent(), `script-src ${app.url}; frame-src ${app.url};`);
    // The preview is the loader's element and its frame, verified like on another site.
    const preview = () => page.frames().find((f) => f.url().includes('/embed/'));
    await page.waitForFunction(() => document.querySelector('[data-testid="widget-preview"]'));
    await page.waitForFunction(() => [...document.querySelectorAll('taoscope-subnet')].length === 1);
    let frame;
    for (let i = 0; i < 100 && !(frame = preview()); i++) await page.waitForTimeout(100);
    await frame.getByTestId('widget-uids').waitFor({ timeout: 60_000 });
    await page.getByTestId('widget-kind').selectOption('audit');
    assert.match(await snippet.textContent(), /<taoscope-audit netuid="1"/);
    await page.waitForFunction(() => document.querySelector('taoscope-audit'));
    let audit;
    for (let i = 0; i < 100 && !(audit = page.frames().find((f) => f.url().includes('/embed/audit'))); i++) await page.waitForTimeout(100);
    await audit.getByTestId('widget-verdict').waitFor({ timeout: 60_000 });
    await screenshot(page, 'widgets-page');
    page.assertClean();
  } finally {
    await page.close();
  }
});
