import { z } from 'zod';
import { InvalidInput } from './errors.js';
import { MIX_KEYS, type Mix } from './campaign.js';
import { parseShare, type Scenario } from './scenario.js';

// A scenario file (`onepush simulate --scenario`), checked with zod: every field optional, a bad one named by its
// path. Its own module, so a run without a scenario never loads zod.

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

