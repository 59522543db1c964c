import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { EVENT_TYPES, type EventType } from '../core/event-types.js';
import { asFixture, type Fixture } from '../core/samples.js';
import { readJsonFile } from './files.js';
import { inBinary, packageRoot, readShipped } from './shipped.js';

// The shipped templates (`fixtures/<type>.json`): files of the package, or built into the single executable
// (adapters/shipped.ts). Nothing here runs at import time.

/** The package's `fixtures/` folder; an OnepushError if it is missing. */
export function fixturesDir(): string {
  return join(packageRoot(), 'fixtures');
}

/** Reads and checks one template file (a shipped fixture or `--fixture <file>`); bad files are UsageErrors. */
export async function readFixtureFile(file: string): Promise<Fixture> {
  return checkFixture(file, await readJsonFile(file));
}

function checkFixture(file: string, value: unknown): Fixture {
  try {
    return asFixture(value);
  } catch (e) {
    throw new UsageError(`${file} is not an event template: ${(e as Error).message}`, 'a template is an event: {"type":…,"data":{…}}');
  }
}

/** The shipped template of one type. */
export async function loadFixture(type: EventType): Promise<Fixture> {
  if (inBinary()) {
    const path = `fixtures/${type}.json`;
    return checkFixture(path, parseJson(readShipped(path).toString('utf8')));
  }
  return readFixtureFile(join(fixturesDir(), `${type}.json`));
}

/** The shipped templates of the given types (all seven by default), by type. */
export async function loadFixtures(types: readonly EventType[] = EVENT_TYPES): Promise<Map<EventType, Fixture>> {
  const entries = await Promise.all(types.map(async (t) => [t, await loadFixture(t)] as const));
  return new Map(entries);
}
