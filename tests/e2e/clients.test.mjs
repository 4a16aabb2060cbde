// The localnet as a development node for the ecosystem's own clients, on one localnet:
// - @polkadot/api (the most used Substrate client library, and the base of the polkadot{.js}
//   extension), over the legacy JSON-RPC, reads the runtime version, metadata and //Alice's
//   account, follows finalized heads and a storage key, and signs (@polkadot/keyring) and
//   submits a balance transfer and a `SubtensorModule` `add_stake` built from the arguments the
//   runtime's metadata gives; both are followed to finalization and their `ExtrinsicSuccess`
//   read from the events;
// - polkadot-api does the same over the new JSON-RPC interface (`chainHead_v1_*`,
//   `chainSpec_v1_*`, `transaction_v1_*`): every method it sends on the socket is one of those;
// - independent checks: the stake polkadot.js added is what taoscope's metagraph shows through
//   proofs (verified RPC, in the page) at the same block, and the balances and stake of the
//   account a (test) wallet extension offers are what the Portfolio shows (staking from the page,
//   with a wallet signing through polkadot.js, is staking.test.mjs);
// - the wallet path: the `SignerPayloadJSON` taoscope builds (`taoscope signer-payload`) is what
//   polkadot.js's `ExtrinsicPayload` (the code the polkadot{.js} extension signs with) encodes
//   to the runtime's signing payload, for today's runtime's recorded payloads (spec 461, with and
//   without the RFC-0078 metadata hash) and live on the localnet, where a transfer signed that
//   way is checked by taoscope (`taoscope signed`) and included; a signature by another key is
//   refused before anything is submitted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeRegistry, Metadata } from '@polkadot/types';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { createClient } from 'polkadot-api';
import { getWsProvider } from 'polkadot-api/ws';
import { getPolkadotSigner } from 'polkadot-api/signer';
import { WebSocket } from 'ws';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, ROOT, SHARED } from './harness.mjs';

// The demo subnet: //Coldkey1 owns //Hotkey1, a validator of subnet 1.
const ARGS = ['--backfill', '20', '--block-ms', '500', '--demo-subnet'];
const TAO = 1_000_000_000n;
let localnet, api, keyring, server, browser;
/** The block number that included polkadot.js's add_stake (set by the first test). */
let stakedAt;

before(async () => {
  localnet = await startLocalnet({ args: ARGS });
  api = await ApiPromise.create({ provider: new WsProvider(localnet.rpc), throwOnConnect: true, noInitWarn: true });
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
});
after(async () => {
  await api?.disconnect();
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
});

/** The first `count` values a subscription gives (`subscribe(callback)` returns its unsubscribe). */
async function firstValues(subscribe, count, map = (v) => v) {
  const seen = [];
  let stop;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${seen.length} of ${count} values in 30 s`)), 30_000);
    subscribe((value) => {
      seen.push(map(value));
      if (seen.length === count) { clearTimeout(timer); resolve(); }
    }).then((unsubscribe) => { stop = unsubscribe; }, reject);
  });
  stop?.();
  return seen;
}

/**
 * Signs and submits `tx` from `signer`, follows it to finalization, and returns the finalized
 * block's hash with the transaction's own events, in the order the statuses came.
 */
async function submitUntilFinal(tx, signer) {
  const statuses = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not final in 60 s: ${statuses}`)), 60_000);
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      statuses.push(status.type);
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        clearTimeout(timer);
        reject(new Error(`${status.type}: ${statuses}`));
      }
      if (status.isFinalized) {
        clearTimeout(timer);
        resolve({ block: status.asFinalized.toHex(), statuses, dispatchError, events: events.map(({ event }) => `${event.section}.${event.method}`) });
      }
    }).catch((error) => { clearTimeout(timer); reject(error); });
  });
}

/** A call's arguments in the order and with the names the runtime's metadata gives. */
function argsFor(call, byName) {
  return call.meta.args.map(({ name }) => {
    const key = name.toString();
    assert.ok(key in byName, `the runtime's ${call.section}.${call.method} takes ${key}, which this test does not know`);
    return byName[key];
  });
}

test('@polkadot/api reads the runtime, metadata and //Alice, follows heads and a storage key, and submits a transfer and add_stake to finalization', async () => {
  assert.equal(api.runtimeVersion.specName.toString(), 'node-subtensor');
  assert.equal(api.runtimeVersion.specVersion.toNumber(), 103);
  assert.ok(api.runtimeMetadata.version >= 14, `metadata v${api.runtimeMetadata.version}`);
  assert.ok(api.tx.subtensorModule?.addStake, 'SubtensorModule.add_stake in the metadata');
  assert.equal(api.genesisHash.toHex(), localnet.ready.genesis_hash);

  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const aliceAccount = await api.query.system.account(alice.address);
  assert.ok(aliceAccount.data.free.toBigInt() > 1000n * TAO, aliceAccount.toHuman().data.free);
  const nonce = await api.rpc.system.accountNextIndex(alice.address);
  assert.equal(nonce.toNumber(), aliceAccount.nonce.toNumber());

  // Finalized heads: two, the second one higher.
  const heads = await firstValues((cb) => api.rpc.chain.subscribeFinalizedHeads(cb), 2, (h) => h.number.toNumber());
  assert.ok(heads[1] > heads[0], `finalized heads ${heads}`);

  // Bob's account, subscribed (state_subscribeStorage): the current value, then the transfer's.
  const amount = 7n * TAO;
  const bobBalances = [];
  const watchingBob = await api.query.system.account(bob.address, (account) => bobBalances.push(account.data.free.toBigInt()));
  const transferCall = api.tx.balances.transferAllowDeath ?? api.tx.balances.transfer;
  const transfer = await submitUntilFinal(transferCall(...argsFor(transferCall, { dest: bob.address, value: amount })), alice);
  console.log(`polkadot.js: balances transfer ${transfer.statuses.join(' → ')} in ${transfer.block}; events ${transfer.events.join(', ')}`);
  assert.equal(transfer.dispatchError, undefined);
  assert.ok(transfer.events.includes('system.ExtrinsicSuccess'), transfer.events.join(', '));
  const deadline = Date.now() + 10_000;
  while (bobBalances.length < 2 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
  watchingBob();
  assert.equal(bobBalances.at(-1) - bobBalances[0], amount, `Bob's free balance as the subscription gave it: ${bobBalances}`);
  assert.equal((await api.query.system.account(bob.address)).data.free.toBigInt() - bobBalances[0], amount);

  // add_stake by //Coldkey1 to its own //Hotkey1, with the arguments the metadata names
  // (spec 103: hotkey, amount_staked; today's runtime adds netuid).
  const coldkey = keyring.addFromUri('//Coldkey1');
  const hotkey = keyring.addFromUri('//Hotkey1');
  const stake = 3n * TAO;
  const call = api.tx.subtensorModule.addStake;
  const added = await submitUntilFinal(call(...argsFor(call, { hotkey: hotkey.address, amountStaked: stake, netuid: 1 })), coldkey);
  console.log(`polkadot.js: add_stake ${added.statuses.join(' → ')} in ${added.block}; events ${added.events.join(', ')}`);
  assert.equal(added.dispatchError, undefined);
  assert.ok(added.events.includes('system.ExtrinsicSuccess'), added.events.join(', '));
  assert.ok(added.events.includes('subtensorModule.StakeAdded'), added.events.join(', '));
  // The stake moved by the amount between the block's parent and the block (more only if the
  // subnet's epoch paid the hotkey in that very block).
  const header = await api.rpc.chain.getHeader(added.block);
  stakedAt = header.number.toNumber();
  const stakeAt = async (hash) => (await (await api.at(hash)).query.subtensorModule.stake(hotkey.address, coldkey.address)).toBigInt();
  const moved = await stakeAt(added.block) - await stakeAt(header.parentHash);
  assert.ok(moved >= stake, `stake moved by ${moved} rao, ${stake} added`);
});

test("what polkadot.js reads is what taoscope's metagraph and Portfolio show through proofs at the same block", async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // A test wallet injected as extensions inject themselves: //Coldkey1 (it staked above), and
  // an Ethereum account the page must leave out.
  const coldkey = keyring.addFromUri('//Coldkey1');
  // (Signing from the page is staking.test.mjs's.)
  await context.addInitScript((accounts) => {
    const wallet = {
      version: '0.1.0',
      enable: async () => ({
        accounts: { get: async () => accounts, subscribe: (cb) => { cb(accounts); return () => {}; } },
        signer: { signPayload: async () => { throw new Error('not in this test'); } },
      }),
    };
    window.injectedWeb3 = { 'taoscope-test-wallet': wallet };
  }, [
    { address: coldkey.address, name: 'Coldkey1 (test wallet)', type: 'sr25519' },
    { address: '0x' + '11'.repeat(20), name: 'an Ethereum key', type: 'ethereum' },
  ]);
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('verified-mark').waitFor({ timeout: 60_000 });

    // The metagraph's stake column: //Hotkey1's total stake.
    await page.getByRole('link', { name: 'Subnets', exact: true }).click();
    await page.locator('[data-testid="subnet-row"][data-netuid="1"] a').click();
    const hotkey = keyring.addFromUri('//Hotkey1').address;
    await page.locator(`[data-testid="metagraph-row"]:has([data-field="hotkey"][data-raw="${hotkey}"])`).waitFor({ timeout: 60_000 });
    // The block and the stake cell read together (the page refreshes at each finalized block).
    const shown = await page.evaluate((hotkey) => {
      const cell = document.querySelector(`[data-testid="metagraph-row"] [data-field="hotkey"][data-raw="${hotkey}"]`);
      const block = document.querySelector('[data-testid="metagraph-block"]');
      return { hash: block.dataset.blockHash, number: Number(block.dataset.blockNumber), stake: cell.closest('tr').querySelector('[data-field="stake"]').dataset.raw };
    }, hotkey);
    const total = (await (await api.at(shown.hash)).query.subtensorModule.totalHotkeyStake(hotkey)).toBigInt();
    console.log(`//Hotkey1 at #${shown.number}: taoscope (proofs) ${shown.stake} rao, polkadot.js ${total} rao (its add_stake in #${stakedAt})`);
    assert.ok(shown.number >= stakedAt, `the page shows #${shown.number}, before the add_stake in #${stakedAt}`);
    assert.equal(BigInt(shown.stake), total);

    // The Portfolio of the wallet's account: its balances and its stake on //Hotkey1.
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.locator('[data-testid="wallet-connect"][data-wallet="taoscope-test-wallet"]').click();
    assert.equal(await page.getByTestId('wallet-account').count(), 1, 'the Ethereum account is left out');
    await page.getByTestId('wallet-account').click();
    await page.getByTestId('stake-row').first().waitFor({ timeout: 60_000 });
    const portfolio = await page.evaluate(() => {
      const block = document.querySelector('[data-testid="portfolio-block"]');
      const raw = (field) => document.querySelector(`[data-testid="portfolio-balances"] [data-field="${field}"]`).dataset.raw;
      const stakes = Object.fromEntries([...document.querySelectorAll('[data-testid="stake-row"]')].map((row) => [row.dataset.hotkey, row.querySelector('[data-field="stake"]').dataset.raw]));
      return { hash: block.dataset.blockHash, number: Number(block.dataset.blockNumber), free: raw('free'), reserved: raw('reserved'), stakes };
    });
    const at = await api.at(portfolio.hash);
    const account = await at.query.system.account(coldkey.address);
    const stake = (await at.query.subtensorModule.stake(hotkey, coldkey.address)).toBigInt();
    console.log(`//Coldkey1's Portfolio at #${portfolio.number}: free ${portfolio.free}, stake on //Hotkey1 ${portfolio.stakes[hotkey]} (polkadot.js: ${account.data.free}, ${stake})`);
    assert.equal(BigInt(portfolio.free), account.data.free.toBigInt());
    assert.equal(BigInt(portfolio.reserved), account.data.reserved.toBigInt());
    assert.equal(BigInt(portfolio.stakes[hotkey]), stake);
    await screenshot(page, 'account-portfolio');

    // A mistyped address is refused in words; the chosen account stays.
    await page.getByTestId('watch-address').fill('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX');
    await page.getByTestId('watch-submit').click();
    await page.getByTestId('watch-error').waitFor();
    assert.equal(await page.getByTestId('portfolio-account').getAttribute('data-address'), coldkey.address);
    page.assertClean();
  } finally {
    await context.close();
  }
});

test('polkadot-api reads, follows heads and a storage key, and submits a transfer and add_stake to finalization over the new JSON-RPC interface', async () => {
  const sent = new Set();
  const provider = getWsProvider(localnet.rpc, {
    websocketClass: WebSocket,
    logger: (event) => { if (event.type === 'OUT') sent.add(JSON.parse(event.msg).method); },
  });
  const client = createClient(provider);
  try {
    const papi = client.getUnsafeApi();
    const version = await papi.constants.System.Version();
    assert.equal(version.spec_name, 'node-subtensor');
    assert.equal(version.spec_version, 103);
    const metadata = await client.getMetadata((await client.getFinalizedBlock()).hash);
    // The runtime's metadata: "meta", then the version (14 for this runtime).
    assert.deepEqual([...metadata.slice(0, 5)], [0x6d, 0x65, 0x74, 0x61, 14], `metadata of ${metadata.byteLength} bytes`);
    assert.equal(await client.getChainSpecData().then((spec) => spec.genesisHash), localnet.ready.genesis_hash);

    const alice = keyring.addFromUri('//Alice');
    const bob = keyring.addFromUri('//Bob');
    assert.ok((await papi.query.System.Account.getValue(alice.address)).data.free > 1000n * TAO);

    // Finalized heads, and Bob's account as each finalized block has it.
    const heads = await firstValues((cb) => Promise.resolve(client.finalizedBlock$.subscribe(cb)).then((s) => () => s.unsubscribe()), 2, (b) => b.number);
    assert.ok(heads[1] > heads[0], `finalized heads ${heads}`);
    const bobBalances = [];
    const watchingBob = papi.query.System.Account.watchValue(bob.address).subscribe(({ value }) => bobBalances.push(value.data.free));

    const sign = (pair) => getPolkadotSigner(pair.publicKey, 'Sr25519', (data) => pair.sign(data));
    const amount = 5n * TAO;
    // The transfer call this runtime has (spec 103: `transfer`; later ones `transfer_allow_death`).
    const args = { dest: { type: 'Id', value: bob.address }, value: amount };
    const statics = await papi.getStaticApis();
    const transferCall = (() => {
      try { statics.tx.Balances.transfer_allow_death.getEncodedData(args); return 'transfer_allow_death'; } catch { return 'transfer'; }
    })();
    const transfer = await papi.tx.Balances[transferCall](args).signAndSubmit(sign(alice));
    const names = (result) => result.events.map((e) => `${e.type}.${e.value.type}`);
    console.log(`polkadot-api: balances transfer ok=${transfer.ok} in #${transfer.block.number}; events ${names(transfer).join(', ')}`);
    assert.ok(transfer.ok, JSON.stringify(transfer.dispatchError));
    assert.ok(names(transfer).includes('System.ExtrinsicSuccess'), names(transfer).join(', '));
    const deadline = Date.now() + 10_000;
    while (!bobBalances.some((b) => b - bobBalances[0] === amount) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
    watchingBob.unsubscribe();
    assert.ok(bobBalances.some((b) => b - bobBalances[0] === amount), `Bob's free balance as watchValue gave it: ${bobBalances}`);

    // add_stake by //Coldkey1 to //Hotkey1, with the argument names the metadata gives.
    const coldkey = keyring.addFromUri('//Coldkey1');
    const hotkey = keyring.addFromUri('//Hotkey1');
    const stake = 2n * TAO;
    const added = await papi.tx.SubtensorModule.add_stake({ hotkey: hotkey.address, amount_staked: stake, netuid: 1 }).signAndSubmit(sign(coldkey));
    console.log(`polkadot-api: add_stake ok=${added.ok} in #${added.block.number}; events ${names(added).join(', ')}`);
    assert.ok(added.ok, JSON.stringify(added.dispatchError));
    assert.ok(names(added).includes('SubtensorModule.StakeAdded'), names(added).join(', '));
    assert.ok(names(added).includes('System.ExtrinsicSuccess'), names(added).join(', '));

    // Everything went over the new interface, not translated to the legacy one.
    const methods = [...sent].sort();
    console.log(`polkadot-api sent: ${methods.join(' ')}`);
    for (const method of ['chainHead_v1_follow', 'chainHead_v1_storage', 'chainHead_v1_call', 'chainHead_v1_body', 'transaction_v1_broadcast']) {
      assert.ok(sent.has(method), `${method} not sent: ${methods}`);
    }
    const legacy = methods.filter((m) => m !== 'rpc_methods' && !/^(chainHead|chainSpec|transaction|transactionWatch)_v1_/.test(m));
    assert.deepEqual(legacy, [], 'legacy methods sent');
  } finally {
    client.destroy();
  }
});

// ---- the wallet path: taoscope's SignerPayloadJSON through polkadot.js's ExtrinsicPayload

const CLI = join(ROOT, 'target', 'debug', 'taoscope');
const SPEC461 = join(SHARED, 'fixtures', 'localnet_spec461_metadata_v14.hex');

/** `taoscope signer-payload` or `taoscope signed` (the other arguments as the CLI takes them). */
function taoscope(command, metadataFile, from, tx, pallet, call, args, extra = []) {
  return spawnSync(CLI, [command, '--metadata', metadataFile, '--from', from, '--tx', JSON.stringify(tx), ...extra, pallet, call, JSON.stringify(args)], { encoding: 'utf8' });
}

/** What the polkadot{.js} extension does with a SignerPayloadJSON: its registry takes the
 * payload's extensions, and `ExtrinsicPayload` encodes (and signs) it. */
function extensionPayload(registry, payload) {
  registry.setSignedExtensions(payload.signedExtensions);
  return registry.createType('ExtrinsicPayload', payload, { version: payload.version });
}

function registryOf(metadataHex) {
  const registry = new TypeRegistry();
  registry.setMetadata(new Metadata(registry, `0x${metadataHex.trim().replace(/^0x/, '')}`));
  return registry;
}

test("taoscope's SignerPayloadJSON encodes, in polkadot.js's ExtrinsicPayload, to today's runtime's recorded signing payloads", () => {
  const vectors = JSON.parse(readFileSync(join(SHARED, 'fixtures', 'vectors_localnet_spec461.json'), 'utf8'));
  const registry = registryOf(readFileSync(SPEC461, 'utf8'));
  const genesis = '0x1dc00e76a13fc48b9c932e076622c5920295afaad4fd805c284a5cf3222ce452';
  const alice = keyring.addFromUri('//Alice').address;
  // The recorded call: Balances.transfer_keep_alive(5FHneW46…, 12 345 rao).
  const args = { dest: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', value: 12345 };
  const cases = vectors.signature_payloads.map((v) => ({
    tx: {
      specVersion: 461, transactionVersion: 1, genesisHash: genesis, nonce: v.nonce, tip: v.tip,
      ...(v.era === '00' ? {} : { mortal: { period: v.era.period, birthNumber: v.era.current, birthHash: v.era_birth_block_hash } }),
    },
    expected: v.payload_hex,
    call: v.call_data_hex,
  }));
  // With the metadata hash checked (CheckMetadataHash mode 1), as a hardware wallet signs.
  const hashed = vectors.metadata_hash_rfc78;
  cases.push({
    tx: { specVersion: 461, transactionVersion: 1, genesisHash: genesis, nonce: 0, tip: 0, metadataHash: `0x${hashed.metadata_hash_hex}` },
    expected: `0x${hashed.call_data_hex}${hashed.included_in_extrinsic_hex}${hashed.included_in_signed_data_hex}`,
    call: `0x${hashed.call_data_hex}`,
  });
  for (const { tx, expected, call } of cases) {
    const made = taoscope('signer-payload', SPEC461, alice, tx, 'Balances', 'transfer_keep_alive', args);
    assert.equal(made.status, 0, made.stderr);
    const payload = JSON.parse(made.stdout);
    assert.equal(payload.method, call);
    assert.equal(payload.withSignedTransaction, true);
    // What a wallet signs: the payload with its call bare (no length prefix).
    const encoded = `0x${Buffer.from(extensionPayload(registry, payload).toU8a({ method: true })).toString('hex')}`;
    assert.equal(encoded, expected, `${JSON.stringify(tx)}: polkadot.js encodes ${encoded}`);
  }
  console.log(`polkadot.js's ExtrinsicPayload gives the recorded signing payload for ${cases.length} SignerPayloadJSON taoscope built (immortal, mortal, metadata hash)`);
});

test('a transfer signed by polkadot.js from taoscope\'s SignerPayloadJSON is checked by taoscope and included; another key\'s signature is refused', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'taoscope-wallet-'));
  try {
    const metadataFile = join(scratch, 'metadata.hex');
    writeFileSync(metadataFile, (await api.rpc.state.getMetadata()).toHex());
    const alice = keyring.addFromUri('//Alice');
    const bob = keyring.addFromUri('//Bob');
    const finalized = await api.rpc.chain.getFinalizedHead();
    const header = await api.rpc.chain.getHeader(finalized);
    const tx = {
      specVersion: api.runtimeVersion.specVersion.toNumber(),
      transactionVersion: api.runtimeVersion.transactionVersion.toNumber(),
      genesisHash: api.genesisHash.toHex(),
      nonce: (await api.rpc.system.accountNextIndex(alice.address)).toNumber(),
      mortal: { period: 64, birthNumber: header.number.toNumber(), birthHash: finalized.toHex() },
    };
    const args = { dest: bob.address, value: 1_000_000_000 };
    const made = taoscope('signer-payload', metadataFile, alice.address, tx, 'Balances', 'transfer', args);
    assert.equal(made.status, 0, made.stderr);
    const payload = JSON.parse(made.stdout);
    const { signature } = extensionPayload(api.registry, payload).sign(alice);

    // Bob signing for Alice's account: refused in words, nothing submitted.
    const { signature: forged } = extensionPayload(api.registry, payload).sign(bob);
    const refused = taoscope('signed', metadataFile, alice.address, tx, 'Balances', 'transfer', args, ['--signature', forged]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /does not verify for this account/);

    const signed = taoscope('signed', metadataFile, alice.address, tx, 'Balances', 'transfer', args, ['--signature', signature]);
    assert.equal(signed.status, 0, signed.stderr);
    const extrinsic = signed.stdout.trim();
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not final in 60 s')), 60_000);
      api.rpc.author.submitAndWatchExtrinsic(extrinsic, (status) => {
        if (status.isFinalized) { clearTimeout(timer); resolve(status.asFinalized.toHex()); }
        if (status.isInvalid || status.isDropped) { clearTimeout(timer); reject(new Error(status.type)); }
      }).catch((e) => { clearTimeout(timer); reject(e); });
    });
    const block = await api.rpc.chain.getBlock(result);
    const index = block.block.extrinsics.findIndex((x) => x.toHex() === extrinsic);
    assert.ok(index >= 0, 'the transaction is in its block');
    const events = (await (await api.at(result)).query.system.events())
      .filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index)
      .map(({ event }) => `${event.section}.${event.method}`);
    console.log(`signed by polkadot.js's ExtrinsicPayload, checked by taoscope: included in ${result} at ${index}; events ${events.join(', ')}`);
    assert.ok(events.includes('system.ExtrinsicSuccess'), events.join(', '));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
