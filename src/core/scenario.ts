import { z } from 'zod';
import { closest } from './event-types.js';
import { InvalidInput } from './errors.js';
import { MIX_KEYS, type Mix } from './campaign.js';

// How a user says what campaign to simulate: `--mix bounced=5%,opened=40%` and a scenario JSON file. Shares are
// written `5%` or `0.05`.

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

const share = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? (v >= 0 && v <= 1 ? v : null) : parseShare(v);
  if (n === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a share: "5%" or a number from 0 to 1' });
    return z.NEVER;
  }
  return n;
});

const mixSchema = z.strictObject(Object.fromEntries(MIX_KEYS.map((k) => [k, share.optional()])) as Record<keyof Mix, z.ZodOptional<typeof share>>);

/** A scenario file: every field optional; flags given on the command line win. */
export const scenarioSchema = z.strictObject({
  recipients: z.number().int().min(1).max(100_000_000).optional(),
  seed: z.number().int().min(0).max(4294967295).optional(),
  mix: mixSchema.optional(),
  duplicates: share.optional(),
  reorder: share.optional(),
  send_rate: z.number().positive().max(1_000_000).optional(),
  start: z.iso.datetime({ offset: true }).optional(),
});

export interface Scenario {
  recipients?: number;
  seed?: number;
  mix?: Partial<Mix>;
  duplicates?: number;
  reorder?: number;
  sendRate?: number;
  start?: number;
}

/** Checks a parsed scenario file; an InvalidInput naming the first bad field's path (`mix.opened: …`) otherwise. */
export function parseScenario(value: unknown, name = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    const keys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    throw new InvalidInput(
      `${name}: ${path}: ${issue?.message ?? 'invalid'}${keys}`,
      `a scenario is {"recipients":1000,"seed":42,"mix":{"bounced":"2%","opened":"30%"},"duplicates":"1%","reorder":"2%","send_rate":50}; mix keys: ${MIX_KEYS.join(', ')}`,
    );
  }
  const d = r.data;
  const out: Scenario = {};
  if (d.recipients !== undefined) out.recipients = d.recipients;
  if (d.seed !== undefined) out.seed = d.seed;
  if (d.mix !== undefined) {
    const mix: Partial<Mix> = {};
    for (const [k, v] of Object.entries(d.mix)) if (v !== undefined) mix[k as keyof Mix] = v;
    out.mix = mix;
  }
  if (d.duplicates !== undefined) out.duplicates = d.duplicates;
  if (d.reorder !== undefined) out.reorder = d.reorder;
  if (d.send_rate !== undefined) out.sendRate = d.send_rate;
  if (d.start !== undefined) out.start = Date.parse(d.start);
  return out;
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
