// The app's Content-Security-Policy is in force. dist/index.html carries it as a <meta> and has no
// inline script left; the header `./scripts/run` serves (Trunk.toml) is the same policy; every page
// loads under the header without a violation (the harness fails a page on any console error); and a
// script injected into the page does not run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveDist, launchBrowser, openPage, ROOT } from './harness.mjs';
import { CSP, CSP_META } from '../../scripts/csp.mjs';

let server, browser;
before(async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('index.html carries the policy and no inline script; Trunk serves the same header', () => {
  const html = readFileSync(join(ROOT, 'dist', 'index.html'), 'utf8');
  assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${CSP_META}" />`), html);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.length >= 1);
  for (const [, attributes, body] of scripts) {
    assert.match(attributes, /\bsrc="\//, 'every script is a file of the app');
    assert.equal(body.trim(), '');
  }
  const trunk = readFileSync(join(ROOT, 'Trunk.toml'), 'utf8');
  const header = trunk.match(/^"Content-Security-Policy" = "(.*)"$/m)?.[1];
  assert.equal(header, CSP, 'Trunk.toml serves scripts/csp.mjs\'s policy');
  assert.ok(!CSP_META.includes('frame-ancestors'), 'a <meta> policy cannot carry frame-ancestors');
});

test('every page runs under the policy, and an injected script does not', async () => {
  const page = await openPage(browser);
  for (const path of ['/', '/lab', '/epoch-lab', '/bench', '/system', '/network', '/subnets', '/audit', '/account']) {
    await page.goto(`${server.url}${path}`);
    await page.locator('main h1').first().waitFor();
  }
  page.assertClean();

  const refused = await page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
    const script = document.createElement('script');
    script.textContent = 'window.taoscopeInjected = true';
    document.head.append(script);
    setTimeout(() => resolve(null), 2000);
  }));
  assert.equal(refused, 'script-src-elem');
  assert.equal(await page.evaluate(() => window.taoscopeInjected), undefined);
  await page.close();
});
