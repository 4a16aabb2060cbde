// Staking from the Account page, end to end, over both transports, on one localnet: a test
// wallet injected through `window.injectedWeb3` holds real sr25519 keys and signs the page's
// `SignerPayloadJSON` through polkadot.js's `ExtrinsicPayload` (the code the polkadot{.js}
// extension signs with). Per transport, with its own coldkey and validator of the demo subnet:
// - connect the wallet and see the portfolio (checked against polkadot.js at the same block);
// - add stake: the worker's quote (the runtime's fee on proven state, the amount) equals what the
//   finalized transaction did (`TransactionFeePaid`, `StakeAdded`, from proven events and checked
//   with polkadot.js), and the portfolio then shows the proven new stake;
// - remove part of it; transfer TAO (keyboard only, over smoldot-light);
// - a refused signature leaves the form as typed; more than the balance gives the runtime's own
//   error by name; a wallet answering with another key's signature is refused before anything
//   is submitted (the nonce does not move);
// - 390 px wide and with the keyboard only, from the header's link to a finalized stake; every
//   field labelled, and the page does not scroll sideways (screenshots in target/e2e/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, tabTo } from './harness.mjs';

const ARGS = ['--backfill', '20', '--block-ms', '500', '--demo-subnet'];
const TAO = 1_000_000_000n;
let localnet, api, keyring, server, browser;
/** What each run measured, printed at the end for the README. */
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

/**
 * A browser context whose pages carry a test wallet for `coldkey`, injected as extensions inject
 * themselves: 'taoscope-test-wallet' signs with `coldkey` (and refuses once when the page sets
 * `window.__refuseNext`, as a user closing the popup), 'lying-wallet' offers the same account but
 * signs with //Bob's key.
 */
async function walletContext(coldkey, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const signWith = (pair) => async (_source, payload) => {
    api.registry.setSignedExtensions(payload.signedExtensions);
    const { signature } = api.registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(pair);
    return { id: 1, signature };
  };
  await context.exposeBinding('__testWalletSign', signWith(coldkey));
  await context.exposeBinding('__lyingWalletSign', signWith(keyring.addFromUri('//Bob')));
  await context.addInitScript((accounts) => {
    const wallet = (sign) => ({
      version: '0.1.0',
      enable: async () => ({
        accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
        signer: {
          signPayload: (payload) => {
            if (window.__refuseNext) {
              window.__refuseNext = false;
              return Promise.reject(new Error('Cancelled'));
            }
            return window[sign](payload);
          },
        },
      }),
    });
    window.injectedWeb3 = { 'taoscope-test-wallet': wallet('__testWalletSign'), 'lying-wallet': wallet('__lyingWalletSign') };
  }, [{ address: coldkey.address, name: 'test account', type: 'sr25519' }]);
  return context;
}

/** The portfolio as shown: its block, free balance and stake per hotkey (rao). */
async function shownPortfolio(page) {
  return page.evaluate(() => {
    const block = document.querySelector('[data-testid="portfolio-block"]');
    const free = document.querySelector('[data-testid="portfolio-balances"] [data-field="free"]').dataset.raw;
    const stakes = Object.fromEntries([...document.querySelectorAll('[data-testid="stake-row"]')]
      .map((row) => [row.dataset.hotkey, BigInt(row.querySelector('[data-field="stake"]').dataset.raw)]));
    return { hash: block.dataset.blockHash, number: Number(block.dataset.blockNumber), free: BigInt(free), stakes };
  });
}

/** Waits until the portfolio is at block `number` or later, and returns it. */
async function portfolioFrom(page, number) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="portfolio-block"]')?.dataset.blockNumber) >= n, number, { timeout: 60_000 });
  return shownPortfolio(page);
}

/** Chooses the move labelled `label` and types `fields` (argument name → text). */
async function fillMove(page, label, fields) {
  await page.getByTestId('move-select').selectOption({ label });
  for (const [name, text] of Object.entries(fields)) await page.getByTestId(`arg-${name}`).fill(text);
}

/** The quote shown for the fields as they are now (waits for it): its fee and the worker's time. */
async function quoteShown(page) {
  const quote = page.locator('[data-testid="live-quote"][data-fee]');
  await quote.waitFor({ timeout: 30_000 });
  return quote.evaluate((p) => ({ fee: BigInt(p.dataset.fee), ms: Number(p.dataset.ms) }));
}

/** Reviews the form as it is; returns the review panel's call, arguments, fee and free balance, and the time it took. */
async function review(page) {
  const started = Date.now();
  await page.getByTestId('stake-review').click();
  await page.getByTestId('stake-review-panel').waitFor({ timeout: 30_000 }).catch(async (e) => {
    await screenshot(page, 'staking-review-failed');
    throw new Error(`${e.message}\n${await page.locator('main').textContent()}`);
  });
  return { ...(await readReview(page)), ms: Date.now() - started };
}

async function readReview(page) {
  return page.evaluate(() => {
    const panel = document.querySelector('[data-testid="stake-review-panel"]');
    const fee = panel.querySelector('[data-testid="review-fee"]');
    return {
      call: panel.querySelector('[data-testid="review-call"]').textContent,
      args: Object.fromEntries([...panel.querySelectorAll('[data-testid="review-arg"]')].map((d) => [d.dataset.name, d.textContent])),
      fee: fee.dataset.raw === undefined ? null : BigInt(fee.dataset.raw),
      feeText: fee.textContent,
      short: panel.querySelector('[data-testid="review-short"]') !== null,
    };
  });
}

/** Signs the reviewed transaction and waits for its end; returns the result as shown. */
async function signAndWait(page) {
  const started = Date.now();
  await page.getByTestId('stake-sign').click();
  await page.getByTestId('stake-result').waitFor({ timeout: 90_000 });
  const result = await page.getByTestId('stake-result').evaluate((p) => ({
    state: p.dataset.state, block: p.dataset.block, index: Number(p.dataset.index), text: p.textContent,
    feePaid: p.dataset.feePaid === undefined ? null : BigInt(p.dataset.feePaid),
  }));
  const events = await page.locator('[data-testid="result-events"] li').evaluateAll((items) => items.map((li) => ({ name: li.dataset.name, attributes: JSON.parse(li.dataset.attributes) })));
  return { ...result, events, ms: Date.now() - started };
}

/** The events polkadot.js reads for extrinsic `index` of block `hash`. */
async function eventsOf(hash, index) {
  return (await (await api.at(hash)).query.system.events())
    .filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index)
    .map(({ event }) => ({ name: `${event.section}.${event.method}`, data: event.data.toJSON() }));
}

const attribute = (result, name) => result.events.find((e) => e.name === name)?.attributes;

for (const [transport, n] of [['smoldot-light', 1], ['verified RPC', 3]]) {
  test(`staking from the Account page over ${transport}: add, see, remove, transfer; refusals in words`, async () => {
    const coldkey = keyring.addFromUri(`//Coldkey${n}`);
    const hotkey = keyring.addFromUri(`//Hotkey${n}`).address;
    const bob = keyring.addFromUri('//Bob').address;
    const context = await walletContext(coldkey);
    const page = await openPage(browser, { context });
    try {
      await connectLocalnet(page, server.url, localnet.rpc, { verified: transport === 'verified RPC' });
      await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
      await page.getByRole('link', { name: 'Account', exact: true }).click();
      await page.locator('[data-testid="wallet-connect"][data-wallet="taoscope-test-wallet"]').click();
      await page.getByTestId('wallet-account').click();
      await page.getByTestId('stake-row').first().waitFor({ timeout: 60_000 });

      // The portfolio is polkadot.js's reading at the same block.
      const before = await shownPortfolio(page);
      const at = await api.at(before.hash);
      assert.equal(before.free, (await at.query.system.account(coldkey.address)).data.free.toBigInt());
      assert.equal(before.stakes[hotkey], (await at.query.subtensorModule.stake(hotkey, coldkey.address)).toBigInt());

      // The moves are the runtime's: spec 103 has no limit variants and no netuid.
      const offered = await page.locator('[data-testid="move-select"] option').evaluateAll((os) => os.map((o) => `${o.textContent.trim()}=${o.dataset.call}`));
      console.log(`${transport}: moves offered by spec 103: ${offered.join(', ')}`);
      assert.ok(offered.includes('Add stake=add_stake') && offered.includes('Remove stake=remove_stake') && offered.includes('Transfer TAO=transfer_keep_alive'), offered.join(', '));
      assert.equal(await page.getByTestId('arg-netuid').count(), 0, 'spec 103 stakes without a subnet');

      // Add stake: the quote is what the transaction then did.
      await fillMove(page, 'Add stake', { hotkey, amount_staked: '2' });
      const quoted = await review(page);
      assert.equal(quoted.call, 'SubtensorModule.add_stake');
      assert.equal(quoted.args.hotkey, hotkey);
      assert.equal(quoted.args.amount_staked.replace(/\s/g, ''), '2.000000000τ');
      // spec 103's add_stake pays no fee (Pays::No): the quote says 0, and so does the runtime.
      assert.notEqual(quoted.fee, null, quoted.feeText);
      const added = await signAndWait(page);
      console.log(`${transport}: add_stake ${added.text}`);
      assert.equal(added.state, 'success', added.text);
      assert.equal(added.feePaid, quoted.fee, 'the fee paid is the fee quoted');
      const stakeAdded = attribute(added, 'SubtensorModule.StakeAdded');
      assert.ok(stakeAdded, JSON.stringify(added.events));
      assert.ok(JSON.stringify(stakeAdded).includes(String(2n * TAO)), JSON.stringify(stakeAdded));
      // polkadot.js reads the same events at that block.
      const theirs = await eventsOf(added.block, added.index);
      assert.deepEqual(theirs.map((e) => e.name), added.events.map((e) => e.name[0].toLowerCase() + e.name.slice(1)), 'polkadot.js reads the same events');
      timings.push(`${transport}: add_stake review ${quoted.ms} ms, sign → finalized ${added.ms} ms`);

      // The portfolio shows the proven new stake at the block of the stake or later.
      const number = (await api.rpc.chain.getHeader(added.block)).number.toNumber();
      const after = await portfolioFrom(page, number);
      const theirStake = (await (await api.at(after.hash)).query.subtensorModule.stake(hotkey, coldkey.address)).toBigInt();
      assert.equal(after.stakes[hotkey], theirStake);
      assert.ok(after.stakes[hotkey] >= before.stakes[hotkey] + 2n * TAO, `${after.stakes[hotkey]} after ${before.stakes[hotkey]}`);

      // A refused signature: the form keeps what was typed, the page says what happened.
      await fillMove(page, 'Remove stake', { amount_unstaked: '0.5' });
      assert.equal(await page.getByTestId('arg-hotkey').inputValue(), hotkey, 'the hotkey stays across moves');
      const removing = await review(page);
      assert.equal(removing.call, 'SubtensorModule.remove_stake');
      await page.evaluate(() => { window.__refuseNext = true; });
      await page.getByTestId('stake-sign').click();
      await page.getByTestId('stake-error').waitFor();
      assert.match(await page.getByTestId('stake-error').textContent(), /taoscope-test-wallet: .*Cancelled/);
      assert.equal(await page.getByTestId('arg-amount_unstaked').inputValue(), '0.5');
      assert.equal(await page.getByTestId('arg-hotkey').inputValue(), hotkey);
      assert.equal(await page.getByTestId('stake-sign').count(), 1, 'the review stays, to sign again');
      // Signed again: removed.
      const removed = await signAndWait(page);
      assert.equal(removed.state, 'success', removed.text);
      assert.ok(JSON.stringify(attribute(removed, 'SubtensorModule.StakeRemoved')).includes(String(TAO / 2n)), JSON.stringify(removed.events));
      assert.equal(removed.feePaid, removing.fee);

      // Transfer TAO to //Bob (over smoldot-light with the keyboard only).
      let transferQuote, liveQuote;
      if (transport === 'smoldot-light') {
        await page.getByTestId('move-select').focus();
        await page.keyboard.press('End'); // the last move: Transfer TAO
        assert.equal(await page.getByTestId('move-call').textContent(), 'Balances.transfer_keep_alive');
        await page.keyboard.press('Tab');
        await page.keyboard.type(bob);
        await page.keyboard.press('Tab');
        await page.keyboard.type('1.25');
        liveQuote = await quoteShown(page);
        await page.keyboard.press('Enter'); // submits the form: Review
        await page.getByTestId('stake-review-panel').waitFor({ timeout: 30_000 });
        for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement?.dataset.testid === 'stake-sign')); i++) {
          await page.keyboard.press('Tab');
        }
        assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'stake-sign', 'Sign is reachable by Tab');
        transferQuote = await readReview(page);
        await page.keyboard.press('Enter');
      } else {
        await fillMove(page, 'Transfer TAO', { dest: bob, value: '' });
        await page.getByTestId('arg-value').pressSequentially('1.25');
        liveQuote = await quoteShown(page);
        transferQuote = await review(page);
        await page.getByTestId('stake-sign').click();
      }
      assert.ok(transferQuote.fee > 0n, `a transfer pays a fee: ${transferQuote.feeText}`);
      assert.equal(liveQuote.fee, transferQuote.fee, 'the quote as typed is the review\'s');
      timings.push(`${transport}: quote after the last keystroke: ${liveQuote.ms.toFixed(1)} ms in the worker`);
      await page.getByTestId('stake-result').waitFor({ timeout: 90_000 });
      const sent = await page.getByTestId('stake-result').evaluate((p) => ({ state: p.dataset.state, block: p.dataset.block, index: Number(p.dataset.index), text: p.textContent, feePaid: p.dataset.feePaid }));
      assert.equal(sent.state, 'success', sent.text);
      assert.equal(BigInt(sent.feePaid), transferQuote.fee, 'the transfer paid the fee quoted');
      const transfer = (await eventsOf(sent.block, sent.index)).find((e) => e.name === 'balances.Transfer');
      assert.ok(transfer, 'polkadot.js reads the transfer');
      assert.equal(BigInt(transfer.data[2]), 1_250_000_000n);

      // A transaction whose end the page did not see (the page reloaded as it was sent) is
      // settled on the next visit from the account's proven nonce.
      if (transport === 'verified RPC') {
        await fillMove(page, 'Transfer TAO', { dest: bob, value: '0.5' });
        await review(page);
        const nonce = (await api.rpc.system.accountNextIndex(coldkey.address)).toNumber();
        await page.getByTestId('stake-sign').click();
        await page.getByTestId('stake-pending').waitFor();
        const deadline = Date.now() + 30_000;
        while ((await api.rpc.system.accountNextIndex(coldkey.address)).toNumber() === nonce && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
        await page.reload();
        const notice = page.locator('[data-testid="pending-tx"][data-state="included"]');
        await notice.waitFor({ timeout: 90_000 });
        console.log(`${transport}: after a reload: ${await notice.textContent()}`);
        assert.match(await notice.textContent(), /Balances\.transfer_keep_alive/);
        // Said once: the next visit has nothing pending.
        await page.reload();
        await page.getByTestId('portfolio-block').waitFor({ timeout: 90_000 });
        assert.equal(await page.getByTestId('pending-tx').count(), 0);
      }

      // More than the balance: the review warns, the runtime refuses by name (the fee is paid).
      await fillMove(page, 'Add stake', { hotkey, amount_staked: '100000' });
      const tooMuch = await review(page);
      assert.ok(tooMuch.short, 'the review says amount and fee exceed the free balance');
      const refused = await signAndWait(page);
      console.log(`${transport}: staking more than the balance: ${refused.text}`);
      assert.equal(refused.state, 'dispatch-error');
      assert.match(refused.text, /NotEnoughBalanceToStake/);
      await screenshot(page, `staking-${transport === 'verified RPC' ? 'verified' : 'p2p'}`);

      // A wallet that answers with another key's signature: refused before anything is sent.
      const nonce = (await api.rpc.system.accountNextIndex(coldkey.address)).toNumber();
      await page.locator('[data-testid="wallet-connect"][data-wallet="lying-wallet"]').click();
      await page.getByTestId('wallet-account').click();
      await fillMove(page, 'Add stake', { hotkey, amount_staked: '1' });
      await review(page);
      const lied = await signAndWait(page);
      assert.equal(lied.state, 'failed');
      assert.match(lied.text, /does not verify for this account/);
      assert.equal((await api.rpc.system.accountNextIndex(coldkey.address)).toNumber(), nonce, 'nothing was submitted');
      page.assertClean();
    } finally {
      await context.close();
    }
  });
}

test('at 390 px, keyboard only: connect the wallet, choose the account, stake; every field labelled, no sideways scroll', async () => {
  const coldkey = keyring.addFromUri('//Coldkey1');
  const context = await walletContext(coldkey, { width: 390, height: 844 });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });
    // From the header's menu (folded on a phone) to the result, keys only.
    assert.equal(await page.locator('nav a[href="/account"]').isVisible(), false, 'the pages are behind the menu at 390 px');
    await tabTo(page, '[data-testid="menu-toggle"]', 60);
    await page.keyboard.press('Enter');
    await tabTo(page, 'nav a[href="/account"]', 60);
    await page.keyboard.press('Enter');
    await tabTo(page, '[data-testid="wallet-connect"][data-wallet="taoscope-test-wallet"]', 60);
    await page.keyboard.press('Enter');
    await page.getByTestId('wallet-account').waitFor();
    await tabTo(page, '[data-testid="wallet-account"]', 60);
    await page.keyboard.press('Enter');
    await page.getByTestId('stake-form').waitFor({ timeout: 60_000 });
    await tabTo(page, '[data-testid="move-select"]', 60);
    assert.equal(await page.getByTestId('move-call').textContent(), 'SubtensorModule.add_stake');
    await page.keyboard.press('Tab');
    await page.keyboard.type(keyring.addFromUri('//Hotkey1').address);
    await page.keyboard.press('Tab');
    await page.keyboard.type('0.75');
    await page.keyboard.press('Enter');
    await page.getByTestId('stake-review-panel').waitFor({ timeout: 30_000 });
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')))
      .map((el) => el.id || el.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], 'every field has a label');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    await screenshot(page, 'account-390');
    assert.ok(width <= 390, `the page is ${width} px wide at 390`);
    await tabTo(page, '[data-testid="stake-sign"]', 60);
    await page.keyboard.press('Enter');
    await page.getByTestId('stake-result').waitFor({ timeout: 90_000 });
    assert.equal(await page.getByTestId('stake-result').getAttribute('data-state'), 'success', await page.getByTestId('stake-result').textContent());
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no sideways scroll with the result shown');
    await screenshot(page, 'account-390-staked');
    page.assertClean();
  } finally {
    await context.close();
  }
});

test('Home shows the network, the chosen account and every subnet with its audit verdict, live and verified', async () => {
  const coldkey = keyring.addFromUri('//Coldkey3');
  const context = await walletContext(coldkey);
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.locator('[data-testid="wallet-connect"][data-wallet="taoscope-test-wallet"]').click();
    await page.getByTestId('wallet-account').click();
    await page.getByRole('link', { name: 'Home', exact: true }).click();
    await page.locator('[data-testid="home-finalized"]:has-text("verified")').waitFor({ timeout: 90_000 });
    // The account's balances, as polkadot.js reads them at the block shown.
    const shown = page.getByTestId('home-portfolio');
    await shown.waitFor({ timeout: 60_000 });
    const { block, free } = await shown.evaluate((dl) => ({ block: Number(dl.dataset.block), free: BigInt(dl.querySelector('[data-field="free"]').dataset.raw) }));
    const at = await api.at(await api.rpc.chain.getBlockHash(block));
    assert.equal(free, (await at.query.system.account(coldkey.address)).data.free.toBigInt());
    // Every subnet of the chain, and the demo subnet's latest epoch audited as matching.
    await page.locator('[data-testid="home-subnet"][data-netuid="1"] [data-state="match"]').waitFor({ timeout: 90_000 });
    const netuids = await page.locator('[data-testid="home-subnet"]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.netuid)));
    const added = (await api.query.subtensorModule.networksAdded.entries()).filter(([, v]) => v.isTrue).map(([k]) => k.args[0].toNumber()).sort((a, b) => a - b);
    assert.deepEqual(netuids, added);
    console.log(`Home: subnet 1 ${await page.locator('[data-testid="home-subnet"][data-netuid="1"] [data-testid="home-verdict"]').textContent()}`);
    await screenshot(page, 'home');
    // Nothing is lost: the Lab keeps the tools.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Lab', exact: true }).click();
    await page.getByTestId('lab-tools').waitFor();
    for (const name of ['Epoch lab', 'Benchmark', 'System']) assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, name);
    page.assertClean();
  } finally {
    await context.close();
  }
});
