import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import { OnepushError } from '../core/errors.js';

// The files onepush ships beside its code: the sample templates (fixtures/*.json), the inspector's page
// (dist/inspector/app.js, app.css) and listen's output thread (dist/commands/listen-thread.cjs). Each is named by
// its path in the package. From the package (npm install, tsx), the file is read from the package's folder; inside
// the single executable (`npm run build:binary`), where there is no such folder, it is the executable's SEA asset of
// that name (scripts/build-binary.mjs puts every one in). Nothing here runs at import time.

/** True inside the single executable built by `npm run build:binary`. */
export function inBinary(): boolean {
  return isSea();
}

let cachedRoot: string | undefined;

/**
 * The package's folder (the one with package.json and fixtures/), found by walking up from this module's own file,
 * because where this code sits differs: src/adapters/ under tsx, dist/ or dist/commands/ once bundled. An
 * OnepushError when it is not found.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  const looked: string[] = [];
  for (let i = 0; i < 5; i++) {
    looked.push(join(dir, 'fixtures'));
    if (existsSync(join(dir, 'fixtures', 'email.sent.json')) && existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new OnepushError(`the sample fixtures are missing (looked in ${looked[0]} and above)`, {
    hint: 'reinstall onepush-cli: its fixtures/ folder ships with the package',
  });
}

/**
 * A shipped file's bytes, by its path in the package (`fixtures/email.sent.json`): the SEA asset inside the single
 * executable, else the file in the package's folder. Throws (an OnepushError, or the file system's error) when it
 * is missing.
 */
export function readShipped(path: string): Buffer {
  if (isSea()) {
    try {
      return Buffer.from(getAsset(path));
    } catch (e) {
      throw new OnepushError(`${path} is not built into this executable (${(e as Error).message})`, {
        hint: 'rebuild it with `npm run build:binary`',
      });
    }
  }
  return readFileSync(join(packageRoot(), path));
}
