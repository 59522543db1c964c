// The event catalogue without zod, so `events`, `sign`, `verify` and `--help` start fast
// (zod costs 50–65 ms of start-up). The schemas live in schemas.ts.

/** The seven OnePush event types. */
export const EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.opened',
  'email.clicked',
  'email.bounced',
  'email.complained',
  'email.unsubscribed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** How a type is coloured and grouped: delivery, engagement, problem (bounce/complaint), unsubscribe. */
export type EventKind = 'delivery' | 'engagement' | 'problem' | 'unsubscribe';

export interface EventTypeInfo {
  type: EventType;
  kind: EventKind;
  description: string;
  /** The type-specific object under `data`, if any. */
  field: string | null;
}

/** One line of description per type, in catalogue order. */
export const EVENT_CATALOGUE: readonly EventTypeInfo[] = [
  { type: 'email.sent', kind: 'delivery', field: null, description: 'accepted by OnePush and queued for delivery' },
  { type: 'email.delivered', kind: 'delivery', field: 'delivery', description: "the recipient's server accepted it (SMTP response, MX host)" },
  { type: 'email.opened', kind: 'engagement', field: 'open', description: 'the recipient opened it, with tracking on (IP, user agent)' },
  { type: 'email.clicked', kind: 'engagement', field: 'click', description: 'the recipient clicked a link (URL, IP, user agent)' },
  { type: 'email.bounced', kind: 'problem', field: 'bounce', description: 'hard or soft bounce (SMTP code, enhanced status, diagnostic)' },
  { type: 'email.complained', kind: 'problem', field: 'complaint', description: 'the recipient marked it as spam (ARF feedback type, provider)' },
  { type: 'email.unsubscribed', kind: 'unsubscribe', field: 'unsubscribe', description: 'the recipient unsubscribed (link or List-Unsubscribe, list)' },
];

/** True for one of the seven known types. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** The catalogue entry of a type, or undefined for an unknown type. */
export function eventInfo(type: string): EventTypeInfo | undefined {
  return EVENT_CATALOGUE.find((e) => e.type === type);
}

/** `*` matches any run of characters, `?` one; a comma-separated list matches if any entry does. */
export function globMatcher(patterns: string): (value: string) => boolean {
  const globs = globList(patterns);
  return (value) => globs.some((g) => globMatch(g, value));
}

/** The globs of a comma-separated list, trimmed, empty ones left out. */
export function globList(patterns: string): string[] {
  return patterns
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * Whether `value` matches `glob` (`*` any run, `?` one character): the greedy match that backs up to the last star,
 * in O(glob × value) at worst, so a long hostile type can never make a pattern backtrack without end (as a regular
 * expression built from the glob could).
 */
export function globMatch(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === value[v])) {
      g++;
      v++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = v;
    } else if (star !== -1) {
      g = star + 1;
      v = ++mark;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** The closest known type to a misspelt one, for "did you mean". */
export function closestType(input: string): EventType | undefined {
  const names = EVENT_TYPES.flatMap((t) => [t, t.slice('email.'.length)]);
  const found = closest(input.toLowerCase(), names);
  return found === undefined ? undefined : EVENT_TYPES.find((t) => t === found || t === `email.${found}`);
}

/** The candidate nearest to `input` (edit distance), when it is near enough to be a typo of it. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(input, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
