// Where to stake, end to end, on one localnet with the three demonstration subnets (delegates at
// 10%, 30% and 18% with nominators, owners' own validators):
// - over verified RPC and over smoldot-light, the page lists every demo validator once each
//   subnet has audited epochs; every epoch's payout it shows (stakers' part and stake) equals
//   what `taoscope yields --json` gives for the same epoch block, and each yearly yield is the
//   mean of the page's own per-epoch yields times the epochs a year (recomputed here);
// - it sorts (yearly both ways), filters (subnet, minimum stake, largest take; a bad filter is
//   said), the amount field changes the expected yield, and "Stake with this validator" opens
//   the Account page's staking flow with the hotkey and amount filled in, reviewed as the call.
// Time from connecting to the ranked list is printed (cold, then warm from the same page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, ROOT } from './harness.mjs';

const ARGS = ['--backfill', '40', '--block-ms', '300', '--demo-subnets', '3'];
const CLI = join(ROOT, 'target', 'debug', 'taoscope');
const VALIDATORS = { 1: 4, 2: 8, 4: 4 };
const MS_PER_YEAR = 31_557_600_000;
let localnet, api, keyring, server, browser;
const timings = [];

before(async () => {
  localnet = await startLocalnet({ args: ARGS });
  api = await ApiPromise.create({ provider: new WsProvider(localnet.rpc), throwOnConnect: true, noInitWarn: true });
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
});
after(async () => {
  for (const t of timings) console.log(t);
  await api?.disconnect();
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
});

/** The rows as shown: subnet, hotkey, stake, take, yearly yield and each epoch's payout. */
async function shownRows(page) {
  return page.locator('[data-testid="yields-row"]').evaluateAll((rows) => rows.map((r) => ({
    netuid: Number(r.dataset.netuid),
    hotkey: r.dataset.hotkey,
    exact: r.dataset.exact === 'true',
    open: r.dataset.open === 'true',
    stake: BigInt(r.querySelector('[data-field="stake"]').dataset.raw),
    yearly: Number(r.querySelector('[data-field="yearly"]').dataset.raw),
    expected: r.querySelector('[data-field="expected"]')?.dataset.raw,
    perYear: Number(r.dataset.epochsPerYear),
    epochs: r.dataset.epochValues.split(';').map((e) => {
      const [block, toStakers, stake] = e.split(':');
      return { block: Number(block), toStakers: BigInt(toStakers), stake: BigInt(stake) };
    }),
  })));
}

/** Waits until every demo validator is listed with at least `epochs` epochs; returns the rows. */
async function waitForAll(page, epochs) {
  const total = Object.values(VALIDATORS).reduce((a, b) => a + b, 0);
  await page.waitForFunction(([total, epochs]) => {
    const rows = [...document.querySelectorAll('[data-testid="yields-row"]')];
    return rows.length === total && rows.every((r) => Number(r.dataset.epochs) >= epochs);
  }, [total, epochs], { timeout: 120_000 }).catch(async (e) => {
    await screenshot(page, 'yields-wait-failed');
    throw new Error(`${e.message}\n${await page.locator('main').textContent()}`);
  });
  return shownRows(page);
}

function yields(netuid) {
  const run = spawnSync(CLI, ['yields', '--netuid', String(netuid), '--network', 'localnet', '--rpc', localnet.rpc, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout).subnets[0];
}

/** Every shown epoch payout equals the CLI's for the same block; yearly = mean × epochs a year. */
function compareWithCli(rows, transport) {
  let compared = 0;
  for (const [netuid, count] of Object.entries(VALIDATORS)) {
    const ours = rows.filter((r) => r.netuid === Number(netuid));
    assert.equal(ours.length, count, `subnet ${netuid}: every validator listed`);
    const cli = yields(netuid);
    let inSubnet = 0;
    for (const row of ours) {
      assert.ok(row.exact, `${row.hotkey}: every epoch audited as matching`);
      const theirs = cli.validators.find((v) => v.latest.hotkey === row.hotkey);
      assert.ok(theirs, `${row.hotkey} in taoscope yields`);
      for (const epoch of row.epochs) {
        const same = theirs.epochs.find((e) => e.block === epoch.block);
        if (!same) continue;
        assert.equal(epoch.toStakers, BigInt(same.to_stakers), `${row.hotkey} #${epoch.block}: stakers' part`);
        assert.equal(epoch.stake, BigInt(same.stake), `${row.hotkey} #${epoch.block}: stake`);
        compared += 1;
        inSubnet += 1;
      }
      const perYear = MS_PER_YEAR / (cli.block_time_ms * (cli.tempo + 1));
      assert.equal(row.perYear, perYear);
      const mean = row.epochs.map((e) => Number(e.toStakers) / Number(e.stake)).reduce((a, b) => a + b, 0) / row.epochs.length;
      assert.ok(Math.abs(row.yearly - mean * perYear) <= 1e-9 * Math.abs(mean * perYear), `${row.hotkey}: yearly ${row.yearly} vs ${mean * perYear}`);
    }
    assert.ok(inSubnet >= count, `subnet ${netuid}: ${inSubnet} epoch payouts compared`);
  }
  console.log(`${transport}: ${compared} epoch payouts equal to taoscope yields'`);
  assert.ok(compared >= 16, `${compared} epochs compared`);
}

for (const transport of ['verified RPC', 'smoldot-light']) {
  test(`Where to stake over ${transport}: every demo validator, equal to taoscope yields`, async () => {
    const page = await openPage(browser);
    try {
      const started = Date.now();
      await connectLocalnet(page, server.url, localnet.rpc, { verified: transport === 'verified RPC' });
      await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
      await page.locator('header nav').getByRole('link', { name: 'Where to stake', exact: true }).click();
      await page.locator('[data-testid="yields-row"]').first().waitFor({ timeout: 90_000 });
      const first = Date.now() - started;
      const rows = await waitForAll(page, 2);
      timings.push(`${transport}: ranked list ${first} ms after connecting (cold), every validator with 2 epochs after ${Date.now() - started} ms`);
      // Ranked by yearly yield, highest first.
      const yearly = rows.map((r) => r.yearly);
      assert.deepEqual(yearly, [...yearly].sort((a, b) => b - a));
      compareWithCli(rows, transport);
      // Warm: the page opened again in this tab (the worker's audits and the client kept).
      const again = Date.now();
      await page.locator('header nav').getByRole('link', { name: 'Home', exact: true }).click();
      await page.locator('header nav').getByRole('link', { name: 'Where to stake', exact: true }).click();
      await page.locator('[data-testid="yields-row"]').first().waitFor({ timeout: 30_000 });
      timings.push(`${transport}: ranked list ${Date.now() - again} ms after opening the page again (warm)`);
      await screenshot(page, `yields-${transport.replace(/\W+/g, '-')}`);
    } finally {
      await page.close();
    }
  });
}

test('Where to stake sorts, filters, prices an amount and opens the staking flow filled in', async () => {
  // //Coldkey9 nominated subnet 1's first delegate at setup and kept 60 TAO.
  const coldkey = keyring.addFromUri('//Coldkey9');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.exposeBinding('__testWalletSign', async (_source, payload) => {
    api.registry.setSignedExtensions(payload.signedExtensions);
    return { id: 1, signature: api.registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(coldkey).signature };
  });
  await context.addInitScript((accounts) => {
    window.injectedWeb3 = { 'taoscope-test-wallet': { version: '0.1.0', enable: async () => ({
      accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
      signer: { signPayload: (payload) => window.__testWalletSign(payload) },
    }) } };
  }, [{ address: coldkey.address, name: 'nominator', type: 'sr25519' }]);
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.locator('[data-testid="wallet-connect"][data-wallet="taoscope-test-wallet"]').click();
    await page.getByTestId('wallet-account').click();
    await page.locator('header nav').getByRole('link', { name: 'Where to stake', exact: true }).click();
    const rows = await waitForAll(page, 1);
    // The chosen account's stake on //Hotkey0 (40 τ nominated at setup, and what it earned since),
    // and its share of the validator's stake.
    const nominated = page.locator(`[data-testid="yields-row"][data-hotkey="${keyring.addFromUri('//Hotkey0').address}"] [data-field="yours"]`);
    await nominated.waitFor({ timeout: 60_000 });
    const yours = BigInt(await nominated.getAttribute('data-raw'));
    assert.ok(yours >= 40n * 1_000_000_000n && yours < 41n * 1_000_000_000n, `${yours}`);

    // Sorting: ranked highest first; the yearly column pressed: the chain's order, then lowest
    // first, then highest first again.
    const header = page.locator('[data-testid="yields-table"] th').nth(2).getByTestId('sort');
    assert.equal(await page.locator('[data-testid="yields-table"] th').nth(2).getAttribute('aria-sort'), 'descending');
    await header.click();
    await header.click();
    let shown = (await shownRows(page)).map((r) => r.yearly);
    assert.deepEqual(shown, [...shown].sort((a, b) => a - b));
    await header.click();
    shown = (await shownRows(page)).map((r) => r.yearly);
    assert.deepEqual(shown, [...shown].sort((a, b) => b - a));

    // Filters: one subnet; a minimum stake; a largest take (subnet 1's 30% delegate goes).
    await page.getByTestId('yields-filter-subnet').selectOption('2');
    assert.deepEqual([...new Set((await shownRows(page)).map((r) => r.netuid))], [2]);
    assert.equal((await shownRows(page)).length, VALIDATORS[2]);
    await page.getByTestId('yields-filter-subnet').selectOption('');
    await page.getByTestId('yields-min-stake').fill('2500');
    const big = await shownRows(page);
    assert.ok(big.length > 0 && big.length < rows.length && big.every((r) => r.stake >= 2500n * 1_000_000_000n));
    await page.getByTestId('yields-min-stake').fill('lots');
    await page.getByTestId('yields-filter-error').waitFor();
    await page.getByTestId('yields-min-stake').fill('');
    const thirty = keyring.addFromUri('//Hotkey1').address;
    assert.ok((await shownRows(page)).some((r) => r.hotkey === thirty));
    await page.getByTestId('yields-max-take').fill('20');
    const takes = await shownRows(page);
    assert.ok(!takes.some((r) => r.hotkey === thirty), 'a 30% take is above 20%');
    assert.ok(takes.length > 0 && takes.every((r) => r.open), 'a take filter keeps delegates only');
    await page.getByTestId('yields-max-take').fill('');
    // Spec 103 takes stake only on a delegate (or one's own hotkey): no link to stake elsewhere.
    const ownersOwn = keyring.addFromUri('//Hotkey2').address;
    const own = page.locator(`[data-testid="yields-row"][data-hotkey="${ownersOwn}"]`);
    assert.equal(await own.getAttribute('data-open'), 'false');
    assert.equal(await own.getByRole('link', { name: 'Stake with this validator' }).count(), 0);

    // The amount: its expected yearly yield, larger for a larger amount.
    await page.getByTestId('yields-amount').fill('10');
    const hotkey = keyring.addFromUri('//Hotkey0').address;
    const expectedFor = async () => BigInt((await shownRows(page)).find((r) => r.hotkey === hotkey).expected);
    const ten = await expectedFor();
    await page.getByTestId('yields-amount').fill('1000');
    const thousand = await expectedFor();
    assert.ok(ten > 0n && thousand > ten * 50n, `10 τ → ${ten}, 1000 τ → ${thousand}`);
    await page.getByTestId('yields-amount').fill('12.5');

    // Stake with //Hotkey0: the Account page's flow, filled in, reviewed as the runtime's call.
    await page.locator(`[data-testid="yields-row"][data-hotkey="${hotkey}"] a`, { hasText: 'Stake with this validator' }).click();
    await page.getByTestId('arg-hotkey').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('arg-hotkey').inputValue(), hotkey);
    assert.equal(await page.getByTestId('arg-amount_staked').inputValue(), '12.5');
    await page.getByTestId('stake-prefilled').waitFor();
    await page.getByTestId('stake-review').click();
    const panel = page.getByTestId('stake-review-panel');
    await panel.waitFor({ timeout: 30_000 });
    assert.equal(await panel.getByTestId('review-call').textContent(), 'SubtensorModule.add_stake');
    const args = Object.fromEntries(await panel.locator('[data-testid="review-arg"]').evaluateAll((ds) => ds.map((d) => [d.dataset.name, d.textContent])));
    assert.equal(args.hotkey, hotkey);
    assert.equal(args.amount_staked.replace(/\s/g, ''), '12.500000000τ');
    await screenshot(page, 'yields-stake-prefilled');
  } finally {
    await context.close();
  }
});
