// Reports the size of the app's wasm bundles (raw and gzip) and records it in
// metrics/wasm-size.json, a tracked file, so that growth shows up in review.
//   node scripts/wasm-size.mjs [--quiet]
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const files = readdirSync(dist).filter((f) => f.endsWith('.wasm')).sort();
if (files.length === 0) {
  console.error('wasm-size: no .wasm in dist/; run `trunk build` first');
  process.exit(1);
}
const bundles = {};
for (const f of files) {
  const bytes = readFileSync(join(dist, f));
  // Trunk hashes the main bundle's name (a u64 in hex, so 1 to 16 digits); record it under
  // its stable part.
  const name = f.replace(/-[0-9a-f]{1,16}_bg\.wasm$/, '_bg.wasm');
  bundles[name] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}
const total = Object.values(bundles).reduce((t, b) => ({ raw: t.raw + b.raw, gzip: t.gzip + b.gzip }), { raw: 0, gzip: 0 });
mkdirSync(join(root, 'metrics'), { recursive: true });
writeFileSync(join(root, 'metrics', 'wasm-size.json'), JSON.stringify({ bundles, total }, null, 2) + '\n');
if (!process.argv.includes('--quiet')) {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log('\n== wasm bundle sizes (recorded in metrics/wasm-size.json)');
  for (const [name, b] of Object.entries(bundles)) console.log(`  ${name.padEnd(28)} raw ${kib(b.raw).padStart(10)}   gzip ${kib(b.gzip).padStart(10)}`);
  console.log(`  ${'total'.padEnd(28)} raw ${kib(total.raw).padStart(10)}   gzip ${kib(total.gzip).padStart(10)}`);
}
