import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnepushError, UsageError } from '../core/errors.js';
import { EVENT_TYPES, type EventType } from '../core/event-types.js';
import { asFixture, type Fixture } from '../core/samples.js';
import { readJsonFile } from './files.js';

// The shipped templates (`fixtures/<type>.json`). The package's root is found by walking up from this
// module's own file, because where this code sits differs: src/adapters/ under tsx, dist/ or dist/chunks/ once
// bundled. Nothing here runs at import time.

let cachedDir: string | undefined;

/** The package's `fixtures/` folder, found from this module's location; an OnepushError if it is missing. */
export function fixturesDir(): string {
  if (cachedDir !== undefined) return cachedDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  const looked: string[] = [];
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'fixtures');
    looked.push(candidate);
    if (existsSync(join(candidate, 'email.sent.json')) && existsSync(join(dir, 'package.json'))) {
      cachedDir = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new OnepushError(`the sample fixtures are missing (looked in ${looked[0]} and above)`, {
    hint: 'reinstall onepush-cli: its fixtures/ folder ships with the package',
  });
}

/** Reads and checks one template file (a shipped fixture or `--fixture <file>`); bad files are UsageErrors. */
export async function readFixtureFile(file: string): Promise<Fixture> {
  const value = await readJsonFile(file);
  try {
    return asFixture(value);
  } catch (e) {
    throw new UsageError(`${file} is not an event template: ${(e as Error).message}`, 'a template is an event: {"type":…,"data":{…}}');
  }
}

/** The shipped template of one type. */
export function loadFixture(type: EventType): Promise<Fixture> {
  return readFixtureFile(join(fixturesDir(), `${type}.json`));
}

/** The shipped templates of the given types (all seven by default), by type. */
export async function loadFixtures(types: readonly EventType[] = EVENT_TYPES): Promise<Map<EventType, Fixture>> {
  const entries = await Promise.all(types.map(async (t) => [t, await loadFixture(t)] as const));
  return new Map(entries);
}
