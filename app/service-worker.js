// taoscope's service worker: keeps one build of the app (the page, its styles, the three wasm
// bundles and their loaders) so that a returning visit starts without the network, and so that a
// page and its workers always come from the same build.
//
// Nothing proven is kept here: the light client proves everything again on every visit (its own
// saved state lives in the page's storage and is checked before use). The files kept are the
// ones this origin served; a cache can only hold what the origin sent.
//
// A new build is a new `BUILD.version` (a hash over every file of the build), so a byte-different
// service worker: the browser installs it beside the old one, and it waits until the page's
// "new version" prompt says to take over (or no page of the old build is open any more).
//
// `BUILD` ({ version, files }) is written above this file by scripts/sw.mjs at each build.
/* global BUILD */
const CACHE = `taoscope-${BUILD.version}`;

self.addEventListener('install', (event) => {
  // `reload`: the files of this build from the origin, never the HTTP cache's older copies.
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll(BUILD.files.map((file) => new Request(file, { cache: 'reload' })))));
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
  const file = route ? '/index.html' : url.pathname;
  if (!BUILD.files.includes(file)) return;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(file))
    .then((kept) => kept ?? fetch(route ? file : request)));
});
