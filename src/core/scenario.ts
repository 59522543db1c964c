import { closest } from './event-types.js';
import { InvalidInput } from './errors.js';
import { MIX_KEYS, type Mix } from './campaign.js';

// How a user says what campaign to simulate: `--mix bounced=5%,opened=40%`, a retry schedule, and what a scenario
// file holds (checked by scenario-file.ts, with zod: loaded only when a scenario is given). Shares are written `5%`
// or `0.05`.

/** A share: `5%`, `0.5%` or a number from 0 to 1. Null when it is neither. */
export function parseShare(text: string): number | null {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  const n = m ? Number(m[1]) / 100 : /^\d+(?:\.\d+)?$/.test(t) ? Number(t) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

/** `bounced=5%,opened=40%` → the shares it sets; an InvalidInput naming the bad entry otherwise. */
export function parseMix(spec: string): Partial<Mix> {
  const out: Partial<Mix> = {};
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!(MIX_KEYS as readonly string[]).includes(key)) {
      const guess = closest(key, MIX_KEYS);
      throw new InvalidInput(`--mix: unknown share "${key}"${guess ? ` — did you mean ${guess}?` : ''}`, `the shares are: ${MIX_KEYS.join(', ')}`);
    }
    const value = eq < 0 ? null : parseShare(part.slice(eq + 1));
    if (value === null) throw new InvalidInput(`--mix: ${key} must be a share such as 5% or 0.05 (0 to 100%)`, `e.g. --mix ${key}=5%`);
    out[key as keyof Mix] = value;
  }
  return out;
}

/** A campaign: what a scenario file holds, and the campaign part of simulate's options. */
export interface Scenario {
  recipients?: number;
  /** Same seed, same events, ids, times and order. Default: a random one (reported, so a run can be repeated). */
  seed?: number;
  mix?: Partial<Mix>;
  /** Share of events delivered twice (default 0.5%). */
  duplicates?: number;
  /** Share of events delivered late (default 2%). */
  reorder?: number;
  /** Emails sent per second of campaign time (default 50). */
  sendRate?: number;
  /** The campaign's clock base, ms since the epoch (default 2026-11-26T09:00:00Z). */
  start?: number;
}

/** `10s,1m,5m,30m,2h` → ms each; an InvalidInput naming the bad entry otherwise. */
export function parseSchedule(spec: string): number[] {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const out = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(p);
      if (!m) throw new InvalidInput(`--retry-schedule: "${p}" is not a duration`, 'write durations such as 10s,1m,5m,30m,2h (ms, s, m, h, d); an empty schedule means no retries: ""');
      return Number(m[1]) * (units[m[2] as string] as number);
    });
  return out;
}
