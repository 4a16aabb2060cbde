// The service worker of a build: app/service-worker.js with the build's version and file list
// above it (see that file). The version is a hash over every file's name and bytes, so any
// change to the build is a new service worker, which the browser finds and the page offers.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const OUT = 'sw.js';

async function filesUnder(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await filesUnder(path));
    else out.push(path);
  }
  return out;
}

/** Writes `dir/sw.js` for the build in `dir`; returns its version. */
export async function writeServiceWorker(dir, source) {
  const hash = createHash('sha256');
  const files = [];
  for (const path of (await filesUnder(dir)).sort()) {
    const name = `/${relative(dir, path).split(sep).join('/')}`;
    if (name === `/${OUT}`) continue;
    files.push(name);
    hash.update(name).update('\0').update(await readFile(path)).update('\0');
  }
  const version = hash.digest('hex').slice(0, 16);
  const build = JSON.stringify({ version, files });
  await writeFile(join(dir, OUT), `const BUILD = ${build};\n${await readFile(source, 'utf8')}`);
  return version;
}
