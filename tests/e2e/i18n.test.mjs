// The languages of app/locales/ against each other and against the code: a key missing from any
// language, a key the code uses that the files lack, a key no code uses, or a placeholder that
// differs between languages fails here (no browser: the files and app/src are read as text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const LOCALES = join(ROOT, 'app', 'locales');
const languages = Object.fromEntries(readdirSync(LOCALES).filter((f) => f.endsWith('.json'))
  .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(LOCALES, f), 'utf8'))]));
const english = languages.en;
const placeholders = (text) => [...text.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1]).sort();

/** The string literals of app/src that name a key: "<namespace>.<name>", a namespace of English's. */
function keysUsed() {
  const namespaces = new Set(Object.keys(english).map((k) => k.split('.')[0]));
  const used = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.rs')) {
        for (const [, key, namespace] of readFileSync(path, 'utf8').matchAll(/"(([a-z0-9]+)\.[a-z0-9-]+)"/g)) {
          if (namespaces.has(namespace)) used.add(key);
        }
      }
    }
  };
  walk(join(ROOT, 'app', 'src'));
  return used;
}

test('English and Simplified Chinese are both there', () => {
  assert.deepEqual(Object.keys(languages).sort(), ['en', 'zh-CN']);
});

test('every language has every key, none empty, with the same placeholders as English', () => {
  for (const [tag, table] of Object.entries(languages)) {
    assert.deepEqual(Object.keys(english).filter((k) => !(k in table)), [], `keys missing from ${tag}.json`);
    assert.deepEqual(Object.keys(table).filter((k) => !(k in english)), [], `keys of ${tag}.json that English lacks`);
    for (const [key, text] of Object.entries(table)) {
      assert.ok(text.trim(), `${tag}.json: ${key} is empty`);
      assert.deepEqual(placeholders(text), placeholders(english[key]), `${tag}.json: ${key}'s placeholders`);
    }
  }
});

test('every key the code names is in the files, and every key there is used', () => {
  const used = keysUsed();
  assert.deepEqual([...used].filter((k) => !(k in english)), [], 'keys used in app/src and missing from en.json');
  assert.deepEqual(Object.keys(english).filter((k) => !used.has(k)), [], 'keys in en.json that no code uses');
});
