// Adds up what every test runner in the log reported and prints one closing line.
//   node scripts/test-summary.mjs LOG
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8');
let passed = 0, failed = 0;
// cargo test and wasm-bindgen-test-runner: "test result: ok. 12 passed; 0 failed; ..."
for (const m of log.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) { passed += +m[1]; failed += +m[2]; }
// node --test: "ℹ pass 5" / "ℹ fail 0" (or "# pass 5")
for (const m of log.matchAll(/^[#ℹ] pass (\d+)$/gm)) passed += +m[1];
for (const m of log.matchAll(/^[#ℹ] fail (\d+)$/gm)) failed += +m[1];
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
