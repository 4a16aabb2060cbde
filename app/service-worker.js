// taoscope's service worker: keeps one build of the app (the page, its styles, the three wasm
// bundles and their loaders) so that a returning visit starts without the network, and so that a
// page and its workers come from the same build.
//
// Nothing proven is kept here: the light client proves everything again on every visit (its own
// saved state lives in the page's storage and is checked before use). The files are checked
// though: each one's SHA-256 is in `BUILD`, written at build time beside the files, and a build
// whose files do not all match (a half-finished deploy, a CDN's stale or rewritten file, an HTML
// error page in place of a wasm bundle) is not installed at all; the one before it stays.
//
// A new build is a new `BUILD.version` (a hash over every file and this source), so a
// byte-different service worker: the browser installs it beside the old one, and it waits until
// the page's "new version" prompt says to take over (or no page of the old build is open).
//
// `BUILD` ({ version, files, sha256 }) is written above this file by scripts/sw.mjs at each build.
/* global BUILD */
const CACHE = `taoscope-${BUILD.version}`;
// The origin's headers a kept file is served with (the policy, the type); none that describe
// the transfer (encoding, length), which no longer apply to the checked bytes.
const KEPT_HEADERS = ['content-type', 'content-security-policy'];

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** `file` from the origin, as a new response of its checked bytes (never a redirect). */
async function fetchChecked(file) {
  // `reload`: the files of this build from the origin, never the HTTP cache's older copies.
  const response = await fetch(new Request(file, { cache: 'reload' }));
  if (!response.ok) throw new Error(`${file}: the origin answered ${response.status}`);
  const body = await response.arrayBuffer();
  if (hex(await crypto.subtle.digest('SHA-256', body)) !== BUILD.sha256[file]) {
    throw new Error(`${file} is not the file of build ${BUILD.version}`);
  }
  const headers = new Headers();
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(body, { status: 200, headers });
}

self.addEventListener('install', (event) => {
  // Every file checked before any is kept: a build is cached whole or not at all.
  event.waitUntil((async () => {
    const checked = await Promise.all(BUILD.files.map(async (file) => [file, await fetchChecked(file)]));
    const cache = await caches.open(CACHE);
    try {
      await Promise.all(checked.map(([file, response]) => cache.put(file, response)));
    } catch (error) {
      // Storage refused part of it (quota): no half build is left behind.
      await caches.delete(CACHE);
      throw error;
    }
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys
    .filter((key) => key.startsWith('taoscope-') && key !== CACHE)
    .map((key) => caches.delete(key)))));
});

// Only pages of this origin can post here; the one thing they may ask is to take over now.
self.addEventListener('message', (event) => {
  if (event.data === 'taoscope:take-over') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Every route of the app is index.html; a navigation to a file (a name with a dot) is not.
  const route = request.mode === 'navigate' && !url.pathname.split('/').pop().includes('.');
  // A widget's frame comes from the server, whose header lets other sites frame it (the cached
  // index.html carries the app's own header, which forbids framing).
  if (route && url.pathname.startsWith('/embed/')) return;
  const file = route ? '/index.html' : url.pathname;
  if (!BUILD.files.includes(file)) return;
  // A file missing from the cache (storage cleared under us) is fetched and checked like at
  // install, never taken unchecked (it could be a later build's).
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(file))
    .then((kept) => kept ?? fetchChecked(file)));
});
