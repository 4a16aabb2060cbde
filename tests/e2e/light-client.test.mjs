// The light client in the page, against a live localnet over loopback: the app built by Trunk
// fetches the localnet's chain spec, smoldot-light in the light worker warp-syncs over a
// WebSocket (libp2p), the header's finalized block advances, and the subnets and the demo
// subnet's metagraph the page shows equal the localnet's own JSON-RPC answers at the same block.
// The localnet then restarts under the page (same directory and ports): the page reconnects
// without a reload. A second visit starts from the database the first one saved; both times to
// the first verified value are printed. Over verified RPC, the page follows the same chain from the
// shipped checkpoint, and endpoints that lie stand before the honest one: each lie is rejected in
// the Trust panel with its reason, and the tables still equal the chain; a reload starts from the
// block proven before it. An endpoint that forges a forced authority change moves nothing: the
// page says a new checkpoint is needed and marks what it shows stale. A checkpoint older than the
// maximum age is refused until the user accepts it, another chain's is refused, and metadata kept
// from another chain is not used. Last, on a second localnet whose GRANDPA set changes, the page
// follows the change from an imported checkpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, freePort, rpcCall as nodeCall, ROOT, SHARED } from './harness.mjs';
import { lyingEndpoint } from './lying-endpoint.mjs';

const ARGS = ['--backfill', '120', '--block-ms', '500', '--demo-subnet'];
let server, browser, localnet, ports, scratch;

before(async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
  ports = { rpc: await freePort(), p2p: await freePort(), ws: await freePort() };
  localnet = await startLocalnet({ ports, args: ARGS });
  scratch = mkdtempSync(join(tmpdir(), 'taoscope-e2e-'));
});
after(async () => {
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---- the localnet's own JSON-RPC (trusted here: it is what the page's proofs must agree with)

/** A page of the app's origin without the app, to talk to nodes from (Node 20 has no WebSocket). */
async function helperPage(context) {
  const helper = await context.newPage();
  await helper.goto(`${server.url}/blank.html`);
  return helper;
}

/** `method(params)` over the node's WebSocket JSON-RPC, from a helper page (see `helperPage`). */
const rpcCall = (helper, method, params, url = localnet.rpc) => nodeCall(helper, url, method, params);

let metadataFile;
/** A storage key through the project's CLI (the same codec, used here only to name keys). */
function storageKey(entry, ...keys) {
  const cli = join(ROOT, 'target', 'debug', 'taoscope');
  return execFileSync(cli, ['storage-key', '--metadata', metadataFile, 'SubtensorModule', entry, ...keys.map((k) => JSON.stringify(k))]).toString().trim();
}

const bytes = (hex) => Buffer.from(hex.slice(2), 'hex');
/** SCALE compact length prefix: [length, bytes used]. */
function compact(b) {
  const mode = b[0] & 3;
  if (mode === 0) return [b[0] >> 2, 1];
  if (mode === 1) return [b.readUInt16LE(0) >> 2, 2];
  if (mode === 2) return [b.readUInt32LE(0) >>> 2, 4];
  throw new Error('compact length too large for a test vector');
}
function vec(hex, size, read) {
  if (hex == null) return [];
  const b = bytes(hex);
  const [n, at] = compact(b);
  return Array.from({ length: n }, (_, i) => read(b, at + i * size));
}
const u16s = (hex) => vec(hex, 2, (b, o) => String(b.readUInt16LE(o)));
const u64s = (hex) => vec(hex, 8, (b, o) => String(b.readBigUInt64LE(o)));
const bools = (hex) => vec(hex, 1, (b, o) => String(b[o] === 1));
const u64 = (hex) => (hex == null ? '0' : String(bytes(hex).readBigUInt64LE(0)));
const u16 = (hex) => (hex == null ? '0' : String(bytes(hex).readUInt16LE(0)));

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** SS58 (prefix 42) of a 32-byte public key. */
function ss58(publicKey) {
  const body = Buffer.concat([Buffer.from([42]), publicKey]);
  const checksum = createHash('blake2b512').update(Buffer.concat([Buffer.from('SS58PRE'), body])).digest().subarray(0, 2);
  let n = BigInt('0x' + Buffer.concat([body, checksum]).toString('hex'));
  let out = '';
  while (n > 0n) { out = BASE58[Number(n % 58n)] + out; n /= 58n; }
  return out;
}

// ---- the page

async function number(page, testId) {
  return Number(await page.getByTestId(testId).textContent());
}

async function waitForFinalized(page, atLeast, timeout = 120_000) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="finalized-block"]')?.textContent) >= n, atLeast, { timeout });
  return number(page, 'finalized-block');
}

async function timeToValue(page) {
  const cell = page.getByTestId('time-to-value');
  await page.waitForFunction(() => /ms$/.test(document.querySelector('[data-testid="time-to-value"]')?.textContent ?? ''), null, { timeout: 120_000 });
  return Number((await cell.textContent()).replace(/ ms$/, ''));
}

/**
 * One consistent snapshot of a table the page re-renders at each finalized block: the block it
 * shows (`blockTestId`) and, per row (`rowTestId`, keyed by `key`), every `data-field` cell's raw
 * chain value.
 */
async function snapshot(page, blockTestId, rowTestId, key) {
  return page.evaluate(([blockTestId, rowTestId, key]) => {
    const block = document.querySelector(`[data-testid="${blockTestId}"]`).dataset.blockHash;
    const rows = [...document.querySelectorAll(`[data-testid="${rowTestId}"]`)].map((tr) => ({
      key: Number(tr.dataset[key]),
      ...Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((td) => [td.dataset.field, td.dataset.raw])),
    }));
    return { block, rows };
  }, [blockTestId, rowTestId, key]);
}

/** The Subnets page's table equals the node's answers at the block the page read at. */
async function assertSubnetsEqualChain(page, helper) {
  await page.getByRole('link', { name: 'Subnets', exact: true }).click();
  await page.getByTestId('subnet-row').first().waitFor({ timeout: 60_000 });
  const subnets = await snapshot(page, 'subnets-block', 'subnet-row', 'netuid');
  const at = subnets.block;
  const added = await rpcCall(helper, 'state_getKeysPaged', [storageKey('NetworksAdded'), 100, null, at]);
  const netuids = added.map((k) => bytes(k).readUInt16LE(bytes(k).length - 2)).sort((a, b) => a - b);
  assert.deepEqual(subnets.rows.map((r) => r.key), netuids);
  for (const shown of subnets.rows) {
    const netuid = shown.key;
    const get = (entry) => rpcCall(helper, 'state_getStorage', [storageKey(entry, netuid), at]);
    assert.equal(shown.tempo, u16(await get('Tempo')), `tempo of ${netuid}`);
    assert.equal(shown.n, u16(await get('SubnetworkN')), `uids of ${netuid}`);
    assert.equal(shown.emission, u64(await get('EmissionValues')), `emission of ${netuid}`);
  }
}

/** The demonstration subnet's metagraph equals the node's answers, field by field. */
async function assertMetagraphEqualChain(page, helper) {
  await page.locator('[data-testid="subnet-row"][data-netuid="1"] a').click();
  await page.getByTestId('metagraph-row').first().waitFor({ timeout: 60_000 });
  const graph = await snapshot(page, 'metagraph-block', 'metagraph-row', 'uid');
  const block = graph.block;
  const vector = async (entry) => rpcCall(helper, 'state_getStorage', [storageKey(entry, 1), block]);
  const expected = {
    incentive: u16s(await vector('Incentive')), dividends: u16s(await vector('Dividends')),
    consensus: u16s(await vector('Consensus')), trust: u16s(await vector('Trust')),
    validator_trust: u16s(await vector('ValidatorTrust')), emission: u64s(await vector('Emission')),
    active: bools(await vector('Active')), validator_permit: bools(await vector('ValidatorPermit')),
  };
  const n = Number(u16(await vector('SubnetworkN')));
  assert.deepEqual(graph.rows.map((r) => r.key), [...Array(n).keys()]);
  assert.ok(n >= 10);
  for (const shown of graph.rows) {
    const uid = shown.key;
    const hotkey = ss58(bytes(await rpcCall(helper, 'state_getStorage', [storageKey('Keys', 1, uid), block])));
    assert.equal(shown.hotkey, hotkey, `hotkey of uid ${uid}`);
    const stake = u64(await rpcCall(helper, 'state_getStorage', [storageKey('TotalHotkeyStake', hotkey), block]));
    assert.equal(shown.stake, stake, `stake of uid ${uid}`);
    for (const [field, values] of Object.entries(expected)) {
      assert.equal(shown[field], values[uid], `${field} of uid ${uid}`);
    }
  }
}

test('the page follows the localnet through smoldot-light, and what it shows equals the chain', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const helper = await helperPage(context);
  metadataFile = join(scratch, 'metadata.hex');
  writeFileSync(metadataFile, await rpcCall(helper, 'state_getMetadata', []));

  // First visit: no saved database.
  const page = await openPage(browser, { context });
  await connectLocalnet(page, server.url, localnet.rpc);
  const first = await waitForFinalized(page, 100);
  assert.equal(await page.getByTestId('runtime-version').textContent(), '103');
  assert.ok(await number(page, 'peer-count') >= 1, 'connected to the localnet');
  assert.ok(await number(page, 'best-block') >= first);
  await page.getByTestId('verified-mark').waitFor();
  const advanced = await waitForFinalized(page, first + 2, 30_000);
  assert.ok(advanced > first, `finalized #${advanced} after #${first}`);
  const cold = await timeToValue(page);
  assert.match(await page.getByTestId('started-from').textContent(), /chain spec alone/);
  await page.waitForFunction(() => /KiB/.test(document.querySelector('[data-testid="saved-database"]')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(await page.getByTestId('sync-progress').getAttribute('value'), '4');
  await screenshot(page, 'light-client-network');

  await assertSubnetsEqualChain(page, helper);
  await screenshot(page, 'light-client-subnets');

  await assertMetagraphEqualChain(page, helper);
  await screenshot(page, 'light-client-metagraph');

  // The localnet restarts under the page: same chain, same ports. No reload: a marker survives.
  await page.evaluate(() => { window.taoscopeSameDocument = true; });
  const before = await number(page, 'finalized-block');
  await localnet.stop();
  await page.waitForFunction(() => document.querySelector('[data-testid="peer-count"]')?.textContent === '0', null, { timeout: 30_000 });
  localnet = await startLocalnet({ dir: localnet.dir, ports, args: ARGS });
  const after = await waitForFinalized(page, before + 3, 90_000);
  assert.ok(await page.evaluate(() => window.taoscopeSameDocument === true), 'the page was not reloaded');
  assert.ok(after > before, `finalized #${after} after the restart (#${before} before)`);
  await page.getByTestId('metagraph-row').first().waitFor();
  page.assertClean();
  await page.close();

  // Second visit, same browser profile: starts from the saved database.
  const again = await openPage(browser, { context });
  await again.goto(`${server.url}/network`);
  const warm = await timeToValue(again);
  assert.match(await again.getByTestId('started-from').textContent(), /saved on an earlier visit/);
  await waitForFinalized(again, after);
  console.log(`time to the first verified value: ${cold} ms on the first visit, ${warm} ms on the second (from the saved database)`);
  again.assertClean();
  await context.close();
});

/** Waits until the element with `testId` says something matching `pattern` (files are read asynchronously). */
async function waitForText(page, testId, pattern, timeout = 10_000) {
  await page.waitForFunction(([testId, source]) => new RegExp(source).test(document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? ''), [testId, pattern.source], { timeout });
}

/** From now on, every page of `context` records each finalized block number its header shows. */
async function recordFinalized(context) {
  await context.addInitScript(() => {
    window.taoscopeFinalizedSeen = [];
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="finalized-block"]')?.textContent;
      const seen = window.taoscopeFinalizedSeen;
      if (text && seen[seen.length - 1] !== Number(text)) seen.push(Number(text));
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

test('a chain spec that cannot work is refused with what to fix, and the page keeps working', async () => {
  const page = await openPage(browser);
  await page.goto(`${server.url}/network`);
  const input = page.getByTestId('spec-file');
  await input.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"name": "cut sh') });
  await waitForText(page, 'import-error', /not a JSON chain spec/);
  const tcpOnly = { name: 'tcp only', id: 'x', genesis: { raw: { top: {} } }, bootNodes: ['/ip4/10.0.0.1/tcp/30333/p2p/12D3KooWBbTeY2uLrEc5WgofUKT14BX8YU1u99hAsG6ZsrP1ropk'] };
  await input.setInputFiles({ name: 'tcp.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(tcpOnly)) });
  await waitForText(page, 'import-error', /no WebSocket bootnode/);
  const noGenesis = { name: 'no genesis', bootNodes: [] };
  await input.setInputFiles({ name: 'nogenesis.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(noGenesis)) });
  await waitForText(page, 'import-error', /no `genesis`/);
  // Still the chosen network, and the page still answers.
  assert.equal(await page.getByTestId('network-select').inputValue(), 'localnet');
  await page.getByRole('link', { name: 'Subnets', exact: true }).click();
  await page.getByRole('heading', { name: 'Subnets' }).waitFor();
  page.assertClean();
});

/**
 * A fresh context with a helper page for the node's answers (the metadata saved for storage keys,
 * under `name`), a page on the Network page with "Localnet over verified RPC" chosen and
 * `endpoints` saved, and the node's head when it started.
 */
async function openVerified(name, endpoints, context = null, helper = null) {
  context ??= await browser.newContext({ viewport: { width: 1280, height: 900 } });
  helper ??= await helperPage(context);
  metadataFile = join(scratch, `metadata-${name}.hex`);
  writeFileSync(metadataFile, await rpcCall(helper, 'state_getMetadata', []));
  const head = Number(BigInt((await rpcCall(helper, 'chain_getHeader', [])).number));
  const page = await openPage(browser, { context });
  await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
  await page.getByTestId('trust-panel').waitFor();
  await page.getByTestId('endpoints').fill(endpoints.join('\n'));
  await page.getByTestId('endpoints-save').click();
  return { context, helper, page, head };
}

test('the page follows the localnet over verified RPC from the shipped checkpoint, and what it shows equals the chain', async () => {
  // An endpoint that is not there, then the honest one: failover, counted as failures.
  const dead = `ws://127.0.0.1:${await freePort()}`;
  const { context, helper, page, head } = await openVerified('verified', [dead, localnet.rpc]);
  assert.ok(head >= 100, `the localnet is at #${head}`);

  const started = Date.now();
  const finalized = await waitForFinalized(page, head);
  console.log(`verified RPC in the page: genesis checkpoint → #${finalized} in ${Date.now() - started} ms`);
  assert.equal(await page.getByTestId('transport').textContent(), 'verified RPC');
  assert.equal(await page.getByTestId('runtime-version').textContent(), '103');
  await page.getByTestId('verified-mark').waitFor();
  assert.match(await page.getByTestId('trust-checkpoint').textContent(), /^block #0 /);
  assert.match(await page.getByTestId('trust-source').textContent(), /shipped with taoscope/);
  assert.ok(await number(page, 'trust-justifications') >= 100, 'a justification per block since genesis');
  assert.ok(await number(page, 'trust-headers') >= head);
  const deadRow = page.locator(`[data-testid="endpoint-row"][data-url="${dead}"]`);
  await deadRow.waitFor();
  assert.equal(await deadRow.locator('[data-field="rejections"]').textContent(), '0', 'unreachable is not a lie');
  const value = await timeToValue(page);
  console.log(`verified RPC in the page: first verified value ${value} ms after the start`);
  await screenshot(page, 'verified-rpc-network');

  await assertSubnetsEqualChain(page, helper);
  await assertMetagraphEqualChain(page, helper);
  await screenshot(page, 'verified-rpc-metagraph');
  await page.getByRole('link', { name: 'Network', exact: true }).click();
  assert.ok(await number(page, 'trust-proofs') >= 1, 'the tables came through storage proofs');
  page.assertClean();

  // A returning visit starts from the block proven on this one, not from the checkpoint.
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('taoscope.resume.localnet-verified')));
  assert.ok(saved?.block.number > 0, 'a proven block is kept for the next visit');
  await recordFinalized(context);
  const reloaded = Date.now();
  await page.reload();
  await waitForFinalized(page, saved.block.number);
  const seen = await page.evaluate(() => window.taoscopeFinalizedSeen);
  console.log(`verified RPC in the page, reloaded: first finalized block #${seen[0]} (saved #${saved.block.number}) in ${Date.now() - reloaded} ms`);
  assert.ok(Math.min(...seen) >= saved.block.number, `every block shown after the reload is the saved one or later: ${seen}`);
  assert.match(await page.getByTestId('started-from').textContent(), new RegExp(`earlier visit \\(#${saved.block.number}\\)`));
  page.assertClean();
  await context.close();
});

test('metadata kept from another chain is not used: the page reads this chain\'s', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const helper = await helperPage(context);
  // What another chain's visit would have left: spec-461 metadata, under the same runtime name
  // and version as the localnet's (which a cache keyed by version alone would have taken).
  const other = readFileSync(join(SHARED, 'fixtures', 'localnet_spec461_metadata_v14.hex'), 'utf8').trim();
  await helper.evaluate((hex) => localStorage.setItem('taoscope.metadata.localnet-verified', JSON.stringify({
    genesis_hash: '0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03', code_hash: `0x${'11'.repeat(32)}`,
    spec_name: 'node-subtensor', spec_version: 103, hex,
  })), other);
  const { page, head } = await openVerified('kept-metadata', [localnet.rpc], context, helper);
  await waitForFinalized(page, head);
  await assertSubnetsEqualChain(page, helper);
  // The metadata kept now is this chain's, under its genesis and the hash of its proven code.
  const code = await rpcCall(helper, 'state_getStorage', ['0x3a636f6465']);
  const codeHash = `0x${Buffer.from(blake2b(bytes(code), { dkLen: 32 })).toString('hex')}`;
  await page.waitForFunction((codeHash) => JSON.parse(localStorage.getItem('taoscope.metadata.localnet-verified') ?? '{}').code_hash === codeHash, codeHash, { timeout: 30_000 });
  const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('taoscope.metadata.localnet-verified')));
  assert.equal(kept.genesis_hash, await rpcCall(helper, 'chain_getBlockHash', [0]));
  page.assertClean();
  await context.close();
});

test('over verified RPC, lying endpoints are rejected in the page with their reasons, and the page shows only the chain', async () => {
  const lies = [
    ['changed-value', /it was changed/],
    ['bad-header', /hashes to/],
    ['wrong-key', /not in authority set 0/],
    ['forced-change', /forced GRANDPA authority change.*new checkpoint is needed/],
  ];
  const liars = await Promise.all(lies.map(([lie]) => lyingEndpoint(localnet.rpc, lie)));
  const { context, helper, page, head } = await openVerified('lies', [...liars.map((l) => l.url), localnet.rpc]);
  try {
    await waitForFinalized(page, head);

    // Every liar caught, each for its own lie, in the panel; the honest endpoint never doubted.
    const rejectionsOf = (url) => page.locator(`[data-testid="endpoint-row"][data-url="${url}"] [data-field="rejections"]`);
    for (const [i, [lie, words]] of lies.entries()) {
      const url = liars[i].url;
      await page.waitForFunction((url) => Number(document.querySelector(`[data-testid="endpoint-row"][data-url="${url}"] [data-field="rejections"]`)?.textContent) >= 1, url, { timeout: 60_000 });
      const reasons = await page.getByTestId('rejection').filter({ hasText: url }).allTextContents();
      console.log(`verified RPC in the page, lie "${lie}": ${reasons.length} rejection(s), e.g. ${reasons[0]}`);
      assert.ok(reasons.some((why) => words.test(why)), `${lie}: a rejection saying ${words}, got ${reasons}`);
    }
    assert.equal(await rejectionsOf(localnet.rpc).textContent(), '0');
    await screenshot(page, 'verified-rpc-lies');

    await assertSubnetsEqualChain(page, helper);
    await assertMetagraphEqualChain(page, helper);
    page.assertClean();
  } finally {
    await Promise.all(liars.map((l) => l.close()));
    await context.close();
  }
});

test('an endpoint that forges a forced authority change moves nothing: the page asks for a new checkpoint', async () => {
  const forger = await lyingEndpoint(localnet.rpc, 'forced-change');
  const { context, page } = await openVerified('forced', [forger.url]);
  try {
    await recordFinalized(context);
    await waitForText(page, 'trust-stale-why', /new checkpoint is needed/, 60_000);
    const words = await page.getByTestId('trust-stale-why').textContent();
    console.log(`verified RPC in the page, only a forging endpoint: ${words.slice(0, 300)}…`);
    assert.match(words, /forced GRANDPA authority change/);
    await page.getByTestId('stale-mark').waitFor();
    // Nothing of the forged chain: the page stays at what it proved (the checkpoint, block 0).
    assert.equal(await page.getByTestId('trust-finalized').textContent(), '#0');
    const shown = await page.locator('[data-testid="finalized-block"]').allTextContents();
    assert.ok(shown.every((n) => n === '0'), `finalized blocks shown: ${shown}`);
    await screenshot(page, 'verified-rpc-forced-change');
    page.assertClean();
  } finally {
    await forger.close();
    await context.close();
  }
});

test('a checkpoint older than the maximum age is refused until accepted, and another chain\'s is refused', async () => {
  const { context, helper, page, head } = await openVerified('old-checkpoint', [localnet.rpc]);
  try {
    // The node's checkpoint of its head: its block's slot is days old on this fast-clocked chain.
    const checkpoint = await rpcCall(helper, 'taoscope_checkpoint', []);
    await page.getByTestId('max-age').fill('1');
    await page.getByTestId('max-age-save').click();
    await page.getByTestId('checkpoint-text').fill(JSON.stringify(checkpoint));
    await page.getByTestId('checkpoint-import').click();
    await waitForText(page, 'checkpoint-refused', /days old \(more than 1\)/, 30_000);
    console.log(`an old checkpoint: ${await page.getByTestId('checkpoint-refused').textContent()}`);
    await screenshot(page, 'verified-rpc-old-checkpoint');
    await page.getByTestId('checkpoint-accept').click();
    const finalized = await waitForFinalized(page, checkpoint.block.number + 2);
    assert.ok(finalized >= head, `followed from the accepted checkpoint to #${finalized}`);
    assert.equal(await page.getByTestId('checkpoint-refused').count(), 0);

    // Finney takes only Finney's checkpoints.
    await page.getByTestId('network-select').selectOption('finney');
    await page.getByTestId('checkpoint-text').fill(JSON.stringify(checkpoint));
    await page.getByTestId('checkpoint-import').click();
    await waitForText(page, 'checkpoint-error', /another chain/);
    assert.equal(await page.getByTestId('checkpoint-other-localnet').count(), 0, 'Finney\'s genesis is fixed');
    await page.getByTestId('network-select').selectOption('localnet-verified');
    page.assertClean();
  } finally {
    await context.close();
  }
});

test('over verified RPC, the page follows a GRANDPA authority set change from an imported checkpoint', async () => {
  // A second localnet whose genesis hands finality from Alice to Bob and Charlie at CHANGE_AT.
  const CHANGE_AT = 60;
  const changing = await startLocalnet({ args: ['--backfill', '30', '--block-ms', '300', '--grandpa-change', String(CHANGE_AT)] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const helper = await helperPage(context);
    const checkpoint = await rpcCall(helper, 'taoscope_checkpoint', [], changing.rpc);
    assert.equal(checkpoint.grandpa.setId, 0);
    assert.ok(checkpoint.block.number < CHANGE_AT, `checkpoint at #${checkpoint.block.number}`);

    const page = await openPage(browser, { context });
    await page.goto(`${server.url}/network`);
    await page.getByTestId('network-select').selectOption('localnet-verified');
    await page.getByTestId('trust-panel').waitFor();
    // The checkpoint first: the shipped one is of the other localnet, and this one's genesis is
    // not the localnet's usual one: refused, until the user says it is their localnet.
    await page.getByTestId('checkpoint-text').fill(JSON.stringify(checkpoint));
    await page.getByTestId('checkpoint-import').click();
    await waitForText(page, 'checkpoint-error', /another chain/);
    await page.getByTestId('checkpoint-other-localnet').click();
    await page.getByTestId('endpoints').fill(changing.rpc);
    await page.getByTestId('endpoints-save').click();

    const started = Date.now();
    const finalized = await waitForFinalized(page, CHANGE_AT + 5);
    console.log(`verified RPC in the page: #${checkpoint.block.number} → #${finalized} across the set change at #${CHANGE_AT} in ${Date.now() - started} ms`);
    assert.match(await page.getByTestId('trust-checkpoint').textContent(), /authority set 0$/);
    assert.equal(await page.getByTestId('trust-set-id').textContent(), '1');
    assert.equal(await page.getByTestId('rejection').count(), 0, 'nothing rejected');
    await screenshot(page, 'verified-rpc-set-change');
    page.assertClean();
  } finally {
    await context.close();
    await changing.stop();
    rmSync(changing.dir, { recursive: true, force: true });
  }
});
