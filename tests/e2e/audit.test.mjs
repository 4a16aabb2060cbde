// The audit pages against a live localnet with three demo subnets (one of 256 uids), over each
// transport: every epoch a page lists is recomputed in the light worker from proven state and
// all its values match the chain, at least 8 epochs per subnet; new epochs appear live; the
// header's audit mark shows the latest verdict; a uid's "why" opens its inputs. Over verified
// RPC an endpoint that changes one uid's stored Incentive stands first: it is rejected by the
// proof check and the audit completes through the honest endpoint. The exported report passes
// `taoscope audit verify`. "Audit every subnet" gives one verdict per subnet, on the CPU and
// again as one GPU batch (SwiftShader), the same. The time to the first verdict, and over p2p
// the bytes the node answered for it, are printed for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, screenshot, startLocalnet, connectLocalnet, rpcCall, ROOT } from './harness.mjs';
import { lyingEndpoint } from './lying-endpoint.mjs';

// Three demo subnets: subnet 1 (256 uids, 64 validators, tempo 9), subnets 2 and 4 with other
// tempos, sizes and hyperparameters. Blocks every 300 ms: subnet 1's epoch every 3 s.
const UIDS = 256;
const ARGS = ['--backfill', '100', '--block-ms', '300', '--demo-subnets', '3', '--demo-uids', String(UIDS), '--demo-validators', '64'];
const CLI = join(ROOT, 'target', 'debug', 'taoscope');
let server, browser, localnet, scratch;

before(async () => {
  server = await serveDist();
  // WebGPU on (SwiftShader): "Audit every subnet" recomputes its epochs again as one GPU batch.
  browser = await launchBrowser({ webgpu: true });
  localnet = await startLocalnet({ args: ARGS });
  scratch = mkdtempSync(join(tmpdir(), 'taoscope-audit-'));
});
after(async () => {
  await browser?.close();
  await server?.close();
  await localnet?.stop();
  if (localnet) rmSync(localnet.dir, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The audited epochs the page lists now: block, state, values checked, verdict. */
async function epochs(page) {
  return page.getByTestId('audit-epoch').evaluateAll((rows) => rows.map((row) => ({
    block: Number(row.dataset.block),
    state: row.dataset.state,
    checked: Number(row.dataset.checked),
    verdict: row.querySelector('[data-testid="audit-verdict"]').textContent,
  })));
}

async function waitForEpochs(page, count, timeout) {
  try {
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit-epoch"]').length >= n, count, { timeout });
  } catch (error) {
    console.log(`after ${timeout} ms: ${JSON.stringify(await epochs(page))}; ${(await page.locator('main, body').first().textContent()).slice(0, 1500)}`);
    throw error;
  }
  return epochs(page);
}

// The demo subnets: uids and the blocks between two epochs (tempo + 1).
const SUBNETS = { 1: { uids: UIDS, period: 10 }, 2: { uids: 32, period: 15 }, 4: { uids: 16, period: 20 } };

function assertAllMatch(list, transport, { netuid = 1, consecutive = true } = {}) {
  const { uids, period } = SUBNETS[netuid];
  const what = `${transport}, subnet ${netuid}`;
  for (const epoch of list) {
    assert.equal(epoch.state, 'match', `${what}: epoch at #${epoch.block}: ${epoch.verdict}`);
    assert.ok(epoch.checked >= 10 * uids, `${what}: epoch at #${epoch.block} compared ${epoch.checked} values`);
    assert.equal(epoch.verdict, `${epoch.checked} of ${epoch.checked} values match`);
  }
  // Epochs newest first, found from the chain's state. Over smoldot-light an epoch whose blocks
  // left the pinned window while the one before it was being audited (6–7 s at 256 uids, here
  // 3 s apart) is skipped, never guessed.
  for (let i = 1; i < list.length; i++) {
    const gap = list[i - 1].block - list[i].block;
    assert.ok(consecutive ? gap === period : gap > 0 && gap % period === 0, `${what}: ${JSON.stringify(list)}`);
  }
}

/**
 * Opens the audit page of subnet `netuid` from its subnet page (its metagraph shown first, as a
 * user would see it) and measures the time from the link to the first verdict. `served`, where
 * given, reads what the node's p2p side has answered so far (to count a light client's bytes).
 */
async function openAudit(page, netuid = 1, served = null) {
  await page.getByRole('link', { name: 'Subnets', exact: true }).click();
  await page.locator(`[data-testid="subnet-row"][data-netuid="${netuid}"] a`).click();
  await page.getByTestId('metagraph-row').first().waitFor({ timeout: 60_000 });
  const before = served && await served();
  const opened = Date.now();
  await page.getByTestId('audit-link').click();
  try {
    await page.getByTestId('audit-epoch').first().waitFor({ timeout: 60_000 });
  } catch (error) {
    console.log(`the audit page after 60 s: ${(await page.locator('body').textContent()).slice(0, 1500)}`);
    page.assertClean();
    throw error;
  }
  const ms = Date.now() - opened;
  const after = served && await served();
  const cost = served ? `; the node answered ${after.lightRequests - before.lightRequests} light-client requests (${after.lightBytes - before.lightBytes} bytes)` : '';
  return { ms, cost };
}

/** Subnets 2 and 4: each audit page shows at least 8 epochs, all matching. */
async function assertSmallSubnets(page, transport, { consecutive, timeout }) {
  for (const netuid of [2, 4]) {
    const { ms } = await openAudit(page, netuid);
    const shown = await waitForEpochs(page, 8, timeout);
    console.log(`${transport}, subnet ${netuid}: first verdict after ${ms} ms; ${shown.length} epochs, e.g. #${shown[0].block}: ${shown[0].verdict}`);
    assertAllMatch(shown, transport, { netuid, consecutive });
  }
}

/**
 * "Audit every subnet": one verdict per subnet, none differing, then the same epochs again as
 * one batch on the GPU (SwiftShader) with the same verdict as the light worker's CPU engine.
 */
async function assertAuditAll(page, transport) {
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  // Every row settled, and the demo subnets matching: over smoldot-light a client that has just
  // started may not hold the block before a subnet's newest epoch, and waits for the next one.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="audit-all-row"]')];
    const state = (netuid) => rows.find((r) => r.dataset.netuid === netuid)?.dataset.state;
    return rows.every((r) => r.dataset.state !== 'pending') && ['1', '2', '4'].every((n) => state(n) === 'match');
  }, null, { timeout: 90_000 });
  const verdicts = await page.getByTestId('audit-all-row').evaluateAll((rows) => rows.map((r) => [r.dataset.netuid, r.dataset.state, r.textContent]));
  const within = await page.getByTestId('audit-all-progress').getAttribute('data-ms');
  console.log(`${transport}, audit every subnet (CPU, proof reads included): ${verdicts.map((v) => `subnet ${v[0]} ${v[1]}`).join(', ')}, all within ${within} ms of opening the page`);
  for (const netuid of ['1', '2', '4']) {
    assert.ok(verdicts.some(([n, state]) => n === netuid && state === 'match'), `subnet ${netuid}: ${JSON.stringify(verdicts)}`);
  }
  assert.ok(verdicts.every(([, state]) => state !== 'mismatch'), JSON.stringify(verdicts));
  await page.getByTestId('audit-all-batch').first().waitFor({ timeout: 60_000 });
  const engine = await page.getByTestId('audit-all-engine').textContent();
  const batch = await page.getByTestId('audit-all-batch').evaluateAll((rows) => rows.map((r) => [r.dataset.netuid, r.dataset.block, r.dataset.cpu, r.dataset.state]));
  console.log(`${transport}, audit every subnet, batch: ${engine}: ${batch.map((b) => `subnet ${b[0]} #${b[1]} cpu ${b[2]} batch ${b[3]}`).join(', ')}`);
  assert.match(engine, /one batch of \d+ epochs on .*WebGPU/, engine);
  assert.ok(batch.length >= 3, JSON.stringify(batch));
  for (const [netuid, block, cpu, gpu] of batch) {
    assert.equal(gpu, cpu, `subnet ${netuid} at #${block}`);
    assert.equal(gpu, 'match', `subnet ${netuid} at #${block}`);
  }
}

/** Shows the uids of the newest epoch and the "why" of uid 0 (a validator of the demo subnet). */
async function assertWhy(page) {
  await page.getByTestId('audit-open').first().click();
  assert.equal(await page.getByTestId('audit-uid').count(), UIDS);
  await page.getByTestId('audit-why').first().click();
  const why = await page.getByTestId('audit-why-view').textContent();
  assert.match(why, /Why uid 0 earned/);
  assert.match(why, /Weights it set.*uid \d/s, 'validator 0 set weights');
  assert.match(why, /Bonds after/);
}

test('over verified RPC, with a liar first, the audit pages show 8 matching epochs per subnet, add new ones live, the report verifies, and every subnet is audited', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const helper = await context.newPage();
  await helper.goto(`${server.url}/blank.html`);
  const metadataFile = join(scratch, 'metadata.hex');
  writeFileSync(metadataFile, await rpcCall(helper, localnet.rpc, 'state_getMetadata', []));
  const key = execFileSync(CLI, ['storage-key', '--metadata', metadataFile, 'SubtensorModule', 'Incentive', '1']).toString().trim();
  const liar = await lyingEndpoint(localnet.rpc, 'changed-stored-value', { key });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc, { verified: true });
    await page.getByTestId('endpoints').fill([liar.url, localnet.rpc].join('\n'));
    await page.getByTestId('endpoints-save').click();
    await page.getByTestId('verified-mark').waitFor({ timeout: 60_000 });

    const firstVerdict = await openAudit(page);
    const shown = await waitForEpochs(page, 8, 60_000);
    console.log(`audit over verified RPC: first verdict ${firstVerdict.ms} ms after opening the page; ${shown.length} epochs, e.g. #${shown[0].block}: ${shown[0].verdict}`);
    assertAllMatch(shown, 'verified RPC');
    assert.equal(await page.getByTestId('audit-summary').getAttribute('data-state'), 'match');
    assert.match(await page.getByTestId('audit-mark').textContent(), /audit ✓ subnet 1/);

    // A new epoch, audited as its block is finalized.
    const newest = shown[0].block;
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="audit-epoch"]')?.dataset.block) > b, newest, { timeout: 30_000 });
    assertAllMatch(await epochs(page), 'verified RPC, live');

    await assertWhy(page);
    await screenshot(page, 'audit-verified-rpc');

    // The report, checked again from the chain by the CLI from its own trust anchor.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
    const report = join(scratch, 'report.json');
    await download.saveAs(report);
    const verify = spawnSync(CLI, ['audit', 'verify', report, '--network', 'localnet', '--rpc', localnet.rpc], { encoding: 'utf8' });
    console.log(`taoscope audit verify: ${verify.stdout.trim()}${verify.stderr.trim()}`);
    assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /confirmed/);

    // The whole network, before subnets 2 and 4 are opened (so that their latest epochs are
    // audited from scratch there): one verdict per subnet.
    await assertAuditAll(page, 'verified RPC');
    await screenshot(page, 'audit-every-subnet');
    await assertSmallSubnets(page, 'verified RPC', { consecutive: true, timeout: 60_000 });

    // The liar told its lie and was caught for it; the honest endpoint never.
    assert.ok(liar.told() >= 1, 'the liar changed an Incentive in a proof');
    await page.getByRole('link', { name: 'Network', exact: true }).click();
    const row = (url) => page.locator(`[data-testid="endpoint-row"][data-url="${url}"] [data-field="rejections"]`);
    assert.ok(Number(await row(liar.url).textContent()) >= 1, 'the liar was rejected');
    assert.equal(await row(localnet.rpc).textContent(), '0');
    page.assertClean();
  } finally {
    await liar.close();
    await context.close();
  }
});

test('over smoldot-light (p2p), the audit page shows the epochs it can prove, all matching, adds new ones live, keeps them across visits, and audits every subnet', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openPage(browser, { context });
  try {
    await connectLocalnet(page, server.url, localnet.rpc);
    await page.getByTestId('verified-mark').waitFor({ timeout: 90_000 });

    const served = () => rpcCall(page, localnet.rpc, 'taoscope_p2pServed', []);
    const firstVerdict = await openAudit(page, 1, served);
    const first = await epochs(page);
    // smoldot-light serves pinned blocks only: the page keeps the last 20 finalized pinned, so it
    // proves the last one or two epochs at once, and every later one as it is finalized.
    const shown = await waitForEpochs(page, 8, 150_000);
    console.log(`audit over smoldot-light: first verdict ${firstVerdict.ms} ms after opening the page${firstVerdict.cost} (${first.length} epochs at once); ${shown.length} epochs, e.g. #${shown[0].block}: ${shown[0].verdict}`);
    assertAllMatch(shown, 'smoldot-light', { consecutive: false });
    await assertWhy(page);
    await screenshot(page, 'audit-p2p');

    // The history is kept (IndexedDB): on the next visit, the epochs not proven again in the new
    // session are listed as kept from the earlier visit, and only proven ones count in the verdict.
    // The reload lands on the deep link itself.
    const audited = (await epochs(page)).map((e) => e.block);
    await page.reload();
    await page.getByTestId('audit-kept').first().waitFor({ timeout: 60_000 });
    const kept = await page.getByTestId('audit-kept').evaluateAll((rows) => rows.map((r) => Number(r.dataset.block)));
    const proven = (await epochs(page)).map((e) => e.block);
    console.log(`the next visit: ${proven.length} epochs proven again, ${kept.length} kept from the earlier visit`);
    assert.ok(kept.every((b) => audited.includes(b) || b > Math.max(...audited)), `kept ${kept}, audited before ${audited}`);
    assert.ok(kept.length + proven.length >= audited.length, `kept ${kept}, proven ${proven}, before ${audited}`);
    assert.match(await page.getByTestId('audit-summary').textContent(), new RegExp(`^${proven.length} epochs? audited`));
    await screenshot(page, 'audit-p2p-reloaded');

    await assertAuditAll(page, 'smoldot-light');
    await screenshot(page, 'audit-every-subnet-p2p');
    await assertSmallSubnets(page, 'smoldot-light', { consecutive: false, timeout: 120_000 });
    page.assertClean();
  } finally {
    await context.close();
  }
});
