// Trunk's post-build hook (Trunk.toml). Trunk runs the hooks of one stage at once, so the steps
// that must follow each other are here, in order: the policy into index.html (csp.mjs), then the
// service worker over the finished files (sw.mjs).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { harden } from './csp.mjs';
import { writeServiceWorker } from './sw.mjs';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('run by Trunk as a post_build hook (TRUNK_STAGING_DIR is not set)');
const index = join(dir, 'index.html');
await writeFile(index, await harden(await readFile(index, 'utf8'), dir));
await writeServiceWorker(dir, join(process.env.TRUNK_SOURCE_DIR ?? 'app', 'service-worker.js'));
