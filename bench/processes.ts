import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** Runs `node <args>` to its end, sampling its peak resident memory (VmHWM) every 20 ms; throws on a non-zero exit. */
export async function peakRss(args: string[]): Promise<{ mib: number; ms: number; stdout: string }> {
  const t = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let hwm = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwm = Math.max(hwm, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  if (code !== 0) throw new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${err.slice(-500)}`);
  return { mib: hwm / 1024, ms: performance.now() - t, stdout: out };
}

/** Runs `node <args>` to its end and times it (wall clock); throws on a non-zero exit. */
export function timed(args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.slice(0, 3).join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return { ms, stdout: r.stdout.toString() };
}
