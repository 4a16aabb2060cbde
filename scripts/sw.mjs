// The service worker of a build: app/service-worker.js with the build's version, file list and
// each file's SHA-256 above it (see that file). The version is a hash over the worker's source and
// every file's name and bytes, so any change to the build is a new service worker, which the
// browser finds and the page offers.
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
  const code = await readFile(source, 'utf8');
  // The source is part of the version: a change to the worker alone is a new build too.
  const version = createHash('sha256').update(code).update('\0');
  const files = [];
  const sha256 = {};
  for (const path of (await filesUnder(dir)).sort()) {
    const name = `/${relative(dir, path).split(sep).join('/')}`;
    if (name === `/${OUT}`) continue;
    const bytes = await readFile(path);
    files.push(name);
    sha256[name] = createHash('sha256').update(bytes).digest('hex');
    version.update(name).update('\0').update(sha256[name]).update('\0');
  }
  const build = { version: version.digest('hex').slice(0, 16), files, sha256 };
  await writeFile(join(dir, OUT), `const BUILD = ${JSON.stringify(build)};\n${code}`);
  return build.version;
}
