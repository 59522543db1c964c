import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs mounted for a test (a disk that can really fill up), or why it cannot be had here. */
export type Tmpfs = { dir: string; unmount(): void } | { skip: string };

/** Mounts a tmpfs of `size` (e.g. '256k') on a new folder; only root may, so others get the reason to skip. */
export function mountTmpfs(size: string): Tmpfs {
  if (process.platform !== 'linux') return { skip: 'a tmpfs needs Linux' };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { skip: 'mounting a small tmpfs (a disk that fills up) needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'onepush-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs failed here (${(r.stderr || r.error?.message || '').trim()})` };
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
