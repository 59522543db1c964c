import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where golden files live: test/golden/. */
export const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

/**
 * Compares rendered output with test/golden/<name>; `UPDATE_GOLDEN=1` (re)writes the file instead. A missing file
 * fails, so a golden test never passes by accident.
 */
export function assertGolden(name: string, actual: string): void {
  const file = `${GOLDEN_DIR}${name}`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `golden file ${file} is missing: run the tests with UPDATE_GOLDEN=1 to write it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
}
