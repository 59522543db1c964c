import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync } from 'node:fs';
import { readAllText } from './files.js';
import { join, relative, isAbsolute } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ProjectSettings } from '../core/config-schema.js';

// onepush.config.json: the project's shared settings, read from the working folder. A cloned repository may plant
// anything under that name, so it is read as adapters/secret.ts reads .env: a regular file only (never a FIFO, a
// device or a folder; O_NONBLOCK so opening a FIFO cannot hang), not through a symlink that leaves the project,
// 1 MiB at most. zod is loaded only when the file exists.

/** The name of the project's config file, in the working folder. */
export const CONFIG_FILE = 'onepush.config.json';

/** A config file larger than this is refused (it is a few lines of settings). */
const MAX_CONFIG = 1024 * 1024;

/** A config file's settings and where it is. */
export interface ProjectConfig extends ProjectSettings {
  path: string;
}

const bad = (message: string): UsageError => new UsageError(`${CONFIG_FILE}: ${message}`, `fix or remove ${CONFIG_FILE}; it holds endpoints, port and save`);

/** The text of `cwd`/onepush.config.json; undefined when there is none. Throws a UsageError for anything else. */
export function readConfigText(cwd: string): { path: string; text: string } | undefined {
  const path = join(cwd, CONFIG_FILE);
  let link;
  try {
    link = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw bad(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (link.isSymbolicLink()) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      throw bad('a symlink to nothing readable');
    }
    const rel = relative(realpathSync(cwd), real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw bad('a symlink that leads out of the project folder (refused)');
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw bad('a folder, not a file');
    throw bad(`cannot read it (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw bad('a folder, not a file');
    if (!st.isFile()) throw bad('not a regular file (a FIFO, socket or device: refused)');
    if (st.size > MAX_CONFIG) throw bad(`larger than 1 MiB (${st.size} bytes): refused`);
    return { path, text: readAllText(fd, st.size) };
  } finally {
    closeSync(fd);
  }
}

/** The project's config (`cwd`/onepush.config.json), validated; undefined when there is none. */
export async function loadProjectConfig(cwd: string): Promise<ProjectConfig | undefined> {
  const found = readConfigText(cwd);
  if (found === undefined) return undefined;
  const { parseProjectConfig } = await import('../core/config-schema.js');
  try {
    return { path: found.path, ...parseProjectConfig(found.text, CONFIG_FILE) };
  } catch (e) {
    const err = e as UsageError;
    throw new UsageError(err.message, err.hint ?? `fix or remove ${CONFIG_FILE}`);
  }
}
