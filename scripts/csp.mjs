// The app's Content-Security-Policy: one home for it.
//
// What the app needs, and nothing more: its own scripts, styles, workers and wasm (compiling
// wasm needs 'wasm-unsafe-eval'); WebSockets to this machine (the localnet, its libp2p port) and
// secure WebSockets anywhere (the JSON-RPC endpoints and bootnodes the user configures: which ones
// is the user's to choose, so the policy cannot name them); https (and this machine's http) for a
// chain spec imported from a URL. No inline script, no eval, no plugins, no base or form targets,
// and no framing by other sites (the header only: a <meta> policy cannot say it), except the
// widget frames (/embed/…), which any site may frame: that is what they are for, and the host
// page can neither read nor change them (app/src/embed/).
//
// Used three ways: in Trunk's post-build hook (scripts/post-build.mjs, see Trunk.toml) it moves
// Trunk's inline start-up script into a file and puts the policy in index.html as a <meta>; the
// e2e harness serves every file with it as a header; and Trunk.toml's [serve.headers] carries the
// same header for `./scripts/run` (tests/e2e/csp.test.mjs holds the two equal).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// CSP source expressions cannot name an IPv6 literal, so [::1] is not among them.
const THIS_MACHINE = ['127.0.0.1:*', 'localhost:*'];

const DIRECTIVES = [
  ["default-src", "'none'"],
  ["script-src", "'self' 'wasm-unsafe-eval'"],
  ["worker-src", "'self'"],
  // The Widgets page previews the widgets in their own frames (/embed/…).
  ["frame-src", "'self'"],
  ["connect-src", ["'self'", 'wss:', 'https:', ...THIS_MACHINE.flatMap((h) => [`ws://${h}`, `http://${h}`])].join(' ')],
  ["style-src", "'self'"],
  ["img-src", "'self' data:"],
  ["font-src", "'self'"],
  ["manifest-src", "'self'"],
  ["base-uri", "'none'"],
  ["form-action", "'none'"],
  ["object-src", "'none'"],
];

const join_ = (directives) => directives.map(([name, value]) => `${name} ${value}`).join('; ');

/** The policy as a <meta> can carry it. */
export const CSP_META = join_(DIRECTIVES);
/** The policy as a response header: the same, and no framing by other sites. */
export const CSP = join_([...DIRECTIVES, ["frame-ancestors", "'self'"]]);
/** The header for the widget frames (/embed/…): any site may frame them. */
export const CSP_EMBED = join_([...DIRECTIVES, ["frame-ancestors", "*"]]);

/**
 * index.html with each inline module script moved into its own file (written under `dir`) and
 * the policy as its first <meta>.
 */
export async function harden(html, dir) {
  let out = html;
  for (const match of html.matchAll(/<script type="module"([^>]*)>([\s\S]*?)<\/script>/g)) {
    const [whole, attributes, body] = match;
    if (!body.trim() || /\bsrc=/.test(attributes)) continue;
    const name = `start-${createHash('sha256').update(body).digest('hex').slice(0, 16)}.js`;
    await writeFile(join(dir, name), body);
    out = out.replace(whole, `<script type="module" src="/${name}"></script>`);
  }
  if (/<script(?![^>]*\bsrc=)[^>]*>\s*\S/.test(out)) throw new Error('an inline script is left in index.html');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CSP_META}" />`;
  return out.replace(/<head>/, `<head>\n    ${meta}`);
}

