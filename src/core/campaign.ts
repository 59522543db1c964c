import { setBounded } from './bounded.js';
import type { EventType } from './event-types.js';
import { makeId } from './ids.js';
import type { Fixture } from './samples.js';

// A seeded campaign: one email per recipient and its lifecycle (sent → delivered | bounced; opened, clicked,
// complained, unsubscribed), in the order a provider would deliver the webhooks. Pure and deterministic: the same
// options give the same events, ids, times and order (no Math.random, no Date.now).
//
// Memory stays flat whatever the number of recipients: recipients are taken in send order, each one's lifecycle is
// recomputed from (seed, recipient) when needed rather than stored, and a heap holds one entry per recipient still
// "in progress" (its next event), so its size is bounded by the recipients whose lifecycle is not over.

/** The shares of a campaign's outcomes (each from 0 to 1). README "Testing a handler under realistic traffic". */
export interface Mix {
  /** Sent emails that bounce (industry: 1–3%). */
  bounced: number;
  /** Bounces that are hard (invalid address); the rest are soft (mailbox full, greylisting). */
  hard: number;
  /** Soft bounces that the sending MTA delivers on a later try (minutes to hours later). */
  recovered: number;
  /** Delivered emails that are opened (industry: 20–40%). */
  opened: number;
  /** Openers who open more than once. */
  reopened: number;
  /** Openers behind Apple Mail Privacy Protection: a machine open within minutes of delivery. */
  machine: number;
  /** Delivered emails whose recipient clicks (industry: 2–5%; clickers are openers). */
  clicked: number;
  /** Delivered emails marked as spam (must stay under 0.1%). */
  complained: number;
  /** Delivered emails whose recipient unsubscribes (0.1–0.5%). */
  unsubscribed: number;
}

/** The default mix: the middle of the published industry ranges (README "Testing a handler under realistic traffic"). */
export const DEFAULT_MIX: Readonly<Mix> = Object.freeze({
  bounced: 0.02,
  hard: 0.4,
  recovered: 0.5,
  opened: 0.3,
  reopened: 0.35,
  machine: 0.4,
  clicked: 0.03,
  complained: 0.0005,
  unsubscribed: 0.003,
});

export const MIX_KEYS = Object.keys(DEFAULT_MIX) as ReadonlyArray<keyof Mix>;

export interface CampaignOptions {
  recipients: number;
  seed: number;
  mix?: Partial<Mix>;
  /** Events delivered twice, same id and bytes (at-least-once), 0–1. Default 0.005. */
  duplicates?: number;
  /** Events delivered late, after events created after them (jitter, provider retries), 0–1. Default 0.02. */
  reorder?: number;
  /** Emails sent per second of campaign time (default 50). */
  sendRate?: number;
  /** The campaign's start, ms since the epoch (default 2026-11-26T09:00:00Z): the clock base of every time and id. */
  start?: number;
}

export const DEFAULT_DUPLICATES = 0.005;
export const DEFAULT_REORDER = 0.02;
export const DEFAULT_SEND_RATE = 50;
export const DEFAULT_START = Date.UTC(2026, 10, 26, 9, 0, 0);

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** No event comes later than this after its email was sent: a campaign's webhooks settle within three days. */
export const CAMPAIGN_WINDOW_MS = 72 * HOUR;

/** One webhook to deliver: when it is due (ms of campaign time since the start), and the event itself. */
export interface CampaignEvent {
  /** When the provider delivers it, in ms of campaign time since the start (non-decreasing along the stream). */
  due: number;
  /** The recipient's number, from 0 in send order. */
  recipient: number;
  type: EventType;
  id: string;
  emailId: string;
  /** A second delivery of an event already delivered (same id and bytes). */
  duplicate: boolean;
  /** The event as OnePush sends it (id, type, created_at, data). */
  event: Record<string, unknown>;
}

/** What the recipient's data should say once every event was applied, idempotently. */
export interface RecipientOutcome {
  recipient: string;
  email_id: string;
  /** delivered (including a soft bounce delivered later) or bounced. */
  status: 'delivered' | 'bounced';
  /** The bounce seen, if any (a recovered soft bounce stays "soft" with status delivered). */
  bounce: 'hard' | 'soft' | null;
  opens: number;
  clicks: number;
  complained: boolean;
  unsubscribed: boolean;
}

// ---- seeded randomness ----

/** A 32-bit hash of two 32-bit numbers (murmur3's finaliser): independent streams per (seed, recipient, event). */
export function hash32(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x7f4a7c15, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: a small, fast, seeded PRNG; returns numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (r: () => number, lo: number, hi: number): number => lo + (hi - lo) * r();
/** Log-uniform: as many values between 1 s and 10 s as between 10 s and 100 s. */
const logBetween = (r: () => number, lo: number, hi: number): number => lo * (hi / lo) ** r();
/** Exponential with the given median. */
const expMedian = (r: () => number, median: number): number => (-Math.log(1 - r()) * median) / Math.LN2;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

function randomBytes10(r: () => number): Uint8Array {
  const b = new Uint8Array(10);
  for (let i = 0; i < 10; i++) b[i] = Math.floor(r() * 256);
  return b;
}

// ---- one recipient's lifecycle ----

/** One event of a lifecycle, before its body is built. */
interface Step {
  due: number;
  created: number;
  type: EventType;
  /** Its index among the recipient's events as created (duplicates share the original's): seeds its id and details. */
  j: number;
  duplicate: boolean;
  /** bounced: hard; opened: a machine open; delivered: after a soft bounce. */
  flag: boolean;
  /** opened/clicked: which one (0 = the first). */
  nth: number;
}

interface Lifecycle {
  sendAt: number;
  steps: Step[];
  outcome: Omit<RecipientOutcome, 'recipient' | 'email_id'>;
}

/** The resolved settings of a campaign. */
interface Plan {
  seed: number;
  mix: Mix;
  duplicates: number;
  reorder: number;
  sendInterval: number;
  start: number;
}

function planOf(o: CampaignOptions): Plan {
  const sendRate = o.sendRate ?? DEFAULT_SEND_RATE;
  return {
    seed: o.seed >>> 0,
    mix: { ...DEFAULT_MIX, ...o.mix },
    duplicates: o.duplicates ?? DEFAULT_DUPLICATES,
    reorder: o.reorder ?? DEFAULT_REORDER,
    sendInterval: 1000 / sendRate,
    start: o.start ?? DEFAULT_START,
  };
}

function lifecycle(plan: Plan, i: number): Lifecycle {
  const { mix } = plan;
  const r = prng(hash32(plan.seed, i));
  const sendAt = Math.floor(i * plan.sendInterval);
  const cap = sendAt + CAMPAIGN_WINDOW_MS;
  const at = (t: number): number => Math.min(cap, Math.round(t));
  // Every Step is built with the same fields in the same order (one object shape: this runs once per event).
  const created: Step[] = [];
  const add = (type: EventType, t: number, flag = false, nth = 0): number => {
    const time = at(t);
    created.push({ due: time, created: time, type, j: created.length, duplicate: false, flag, nth });
    return time;
  };
  add('email.sent', sendAt);
  const outcome: Lifecycle['outcome'] = { status: 'delivered', bounce: null, opens: 0, clicks: 0, complained: false, unsubscribed: false };
  let deliveredAt: number | null = null;
  if (r() < mix.bounced) {
    const hard = r() < mix.hard;
    outcome.bounce = hard ? 'hard' : 'soft';
    const bouncedAt = add('email.bounced', sendAt + logBetween(r, 1 * SECOND, hard ? 15 * SECOND : 60 * SECOND), hard);
    if (!hard && r() < mix.recovered) deliveredAt = add('email.delivered', bouncedAt + logBetween(r, 10 * MINUTE, 24 * HOUR), true);
    else outcome.status = 'bounced';
  } else {
    deliveredAt = add('email.delivered', sendAt + logBetween(r, 500, 10 * SECOND));
  }
  if (deliveredAt !== null) {
    const p = r();
    if (p < mix.opened) {
      const machine = r() < mix.machine;
      let t = deliveredAt + (machine ? logBetween(r, 2 * SECOND, 10 * MINUTE) : expMedian(r, 6 * HOUR));
      const opens = 1 + (r() < mix.reopened ? 1 + Math.min(8, Math.floor(expMedian(r, 1))) : 0);
      const firstOpen = at(t);
      for (let n = 0; n < opens; n++) {
        add('email.opened', t, machine && n === 0, n);
        t += expMedian(r, 2 * HOUR);
      }
      outcome.opens = opens;
      // Clickers are openers: P(click | opened) = clicked / opened.
      if (r() < Math.min(1, mix.clicked / Math.max(mix.opened, 1e-9))) {
        const clicks = r() < 0.25 ? 2 : 1;
        let c = firstOpen + logBetween(r, 5 * SECOND, 30 * MINUTE);
        for (let n = 0; n < clicks; n++) {
          add('email.clicked', c, false, n);
          c += logBetween(r, 5 * SECOND, 10 * MINUTE);
        }
        outcome.clicks = clicks;
      }
    }
    if (r() < mix.complained) {
      add('email.complained', deliveredAt + logBetween(r, 1 * HOUR, 72 * HOUR));
      outcome.complained = true;
    }
    if (r() < mix.unsubscribed) {
      add('email.unsubscribed', deliveredAt + logBetween(r, 1 * MINUTE, 48 * HOUR));
      outcome.unsubscribed = true;
    }
  }
  const steps: Step[] = [];
  for (const c of created) {
    // Late: delivered after events created after it (a provider's jitter and its own retries).
    if (plan.reorder > 0 && r() < plan.reorder) c.due += Math.round(logBetween(r, 1 * SECOND, 5 * MINUTE));
    steps.push(c);
    if (plan.duplicates > 0 && r() < plan.duplicates) {
      steps.push({ due: c.due + Math.round(logBetween(r, 1 * SECOND, 2 * MINUTE)), created: c.created, type: c.type, j: c.j, duplicate: true, flag: c.flag, nth: c.nth });
    }
  }
  // By due time; ties keep creation order (a stable insertion sort: a handful of events, mostly in order already),
  // so the order is a function of the seed alone.
  for (let a = 1; a < steps.length; a++) {
    const x = steps[a] as Step;
    let b = a - 1;
    while (b >= 0 && (steps[b] as Step).due > x.due) {
      steps[b + 1] = steps[b] as Step;
      b--;
    }
    steps[b + 1] = x;
  }
  return { sendAt, steps, outcome };
}

// ---- event bodies ----

const DOMAINS = [
  { domain: 'gmail.example', mx: 'gmail-smtp-in.l.google.example', provider: 'gmail.com' },
  { domain: 'yahoo.example', mx: 'mta7.am0.yahoodns.example', provider: 'yahoo.com' },
  { domain: 'outlook.example', mx: 'outlook-com.olc.protection.outlook.example', provider: 'outlook.com' },
  { domain: 'icloud.example', mx: 'mx01.mail.icloud.example', provider: 'icloud.com' },
  { domain: 'example.com', mx: 'mx.example.com', provider: 'example.com' },
] as const;

const HARD = [
  { smtp_code: 550, enhanced_status: '5.1.1', diagnostic: 'The email account that you tried to reach does not exist', classification: 'invalid_address' },
  { smtp_code: 554, enhanced_status: '5.7.1', diagnostic: 'Message rejected as spam', classification: 'blocked' },
] as const;
const SOFT = [
  { smtp_code: 452, enhanced_status: '4.2.2', diagnostic: 'Mailbox full', classification: 'mailbox_full' },
  { smtp_code: 450, enhanced_status: '4.7.1', diagnostic: 'Greylisted, try again later', classification: 'greylisted' },
  { smtp_code: 421, enhanced_status: '4.7.0', diagnostic: 'Too many messages, rate limited, try again later', classification: 'rate_limited' },
] as const;
const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
] as const;
/** What Apple's Mail Privacy Protection proxy sends when it pre-fetches the pixel. */
const MACHINE_UA = 'Mozilla/5.0';

function recipientOf(plan: Plan, i: number): { address: string; domain: (typeof DOMAINS)[number] } {
  const domain = DOMAINS[hash32(plan.seed ^ 0x5bd1e995, i) % DOMAINS.length] as (typeof DOMAINS)[number];
  return { address: `user${i + 1}@${domain.domain}`, domain };
}

function emailIdOf(plan: Plan, i: number, sendAt: number): string {
  return makeId('em', plan.start + sendAt, randomBytes10(prng(hash32(plan.seed ^ 0x68e31da4, i))));
}

const ip = (r: () => number, first: number): string => `${first}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;

function buildEvent(plan: Plan, fixtures: ReadonlyMap<EventType, Fixture>, i: number, emailId: string, step: Step): { id: string; event: Record<string, unknown> } {
  const r = prng(hash32(hash32(plan.seed, i), step.j + 1));
  const createdAt = plan.start + step.created;
  const id = makeId('evt', createdAt, randomBytes10(r));
  const tpl = fixtures.get(step.type);
  const base = (tpl?.data ?? {}) as Record<string, unknown>;
  const { address, domain } = recipientOf(plan, i);
  const data: Record<string, unknown> = {
    ...base,
    email_id: emailId,
    message_id: `<${emailId.slice(3)}@mail.acme.test>`,
    to: [address],
  };
  if ('created_at' in base) data.created_at = new Date(createdAt).toISOString();
  const ua = pick(r, USER_AGENTS);
  switch (step.type) {
    case 'email.delivered':
      data.delivery = {
        ...(base.delivery as object),
        smtp_response: `250 2.0.0 OK  ${Math.floor(createdAt / 1000)} ${emailId.slice(-10).toLowerCase()} - gsmtp`,
        mx_host: domain.mx,
        attempts: step.flag ? 2 + Math.floor(r() * 4) : 1,
      };
      break;
    case 'email.bounced': {
      const b = step.flag ? pick(r, HARD) : pick(r, SOFT);
      data.bounce = { ...(base.bounce as object), type: step.flag ? 'hard' : 'soft', ...b, mx_host: domain.mx };
      break;
    }
    case 'email.opened':
      data.open = step.flag
        ? { ...(base.open as object), ip: ip(r, 17), user_agent: MACHINE_UA, first_open: step.nth === 0, machine_open: true }
        : { ...(base.open as object), ip: ip(r, 198), user_agent: ua, first_open: step.nth === 0, machine_open: false };
      break;
    case 'email.clicked':
      data.click = { ...(base.click as object), ip: ip(r, 198), user_agent: ua, location: r() < 0.9 ? 'html' : 'text' };
      break;
    case 'email.complained':
      data.complaint = { ...(base.complaint as object), feedback_type: 'abuse', provider: domain.provider };
      break;
    case 'email.unsubscribed':
      data.unsubscribe = { ...(base.unsubscribe as object), method: r() < 0.7 ? 'list_unsubscribe' : 'link', origin: 'recipient' };
      break;
    default:
      break;
  }
  // Key order as OnePush sends it: id, type, created_at, data.
  return { id, event: { id, type: step.type, created_at: new Date(createdAt).toISOString(), data } };
}

// ---- the stream ----

/** Lifecycles kept by campaignEvents (a few MiB at most). */
const LIFECYCLE_CACHE = 256;

/** A binary min-heap of (due, recipient, step) in typed arrays: ~13 bytes an entry, ordered by due, then recipient. */
class DueHeap {
  private due = new Float64Array(1024);
  private rec = new Uint32Array(1024);
  private step = new Uint16Array(1024);
  size = 0;

  push(due: number, rec: number, step: number): void {
    if (this.size === this.due.length) this.grow();
    let k = this.size++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(due, rec, parent)) break;
      this.move(parent, k);
      k = parent;
    }
    this.due[k] = due;
    this.rec[k] = rec;
    this.step[k] = step;
  }

  topDue(): number {
    return this.due[0] as number;
  }

  /** Removes the top; returns [recipient, step]. */
  pop(out: { rec: number; step: number }): void {
    out.rec = this.rec[0] as number;
    out.step = this.step[0] as number;
    const last = --this.size;
    if (last === 0) return;
    const due = this.due[last] as number;
    const rec = this.rec[last] as number;
    const step = this.step[last] as number;
    let k = 0;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= last) break;
      if (child + 1 < last && this.entryLess(child + 1, child)) child++;
      if (!this.less(this.due[child] as number, this.rec[child] as number, k, due, rec)) break;
      this.move(child, k);
      k = child;
    }
    this.due[k] = due;
    this.rec[k] = rec;
    this.step[k] = step;
  }

  /** Whether (due, rec) sorts before entry `k` (or before (kDue, kRec) when given). */
  private less(due: number, rec: number, k: number, kDue = this.due[k] as number, kRec = this.rec[k] as number): boolean {
    return due < kDue || (due === kDue && rec < kRec);
  }

  private entryLess(a: number, b: number): boolean {
    return this.less(this.due[a] as number, this.rec[a] as number, b);
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from] as number;
    this.rec[to] = this.rec[from] as number;
    this.step[to] = this.step[from] as number;
  }

  private grow(): void {
    const n = this.due.length * 2;
    const due = new Float64Array(n);
    due.set(this.due);
    const rec = new Uint32Array(n);
    rec.set(this.rec);
    const step = new Uint16Array(n);
    step.set(this.step);
    this.due = due;
    this.rec = rec;
    this.step = step;
  }
}

/**
 * The campaign's webhooks in delivery order (by due time; ties by recipient, then the recipient's own order),
 * generated as they are pulled. `fixtures` are the templates of each type (the shipped ones: loadFixtures).
 */
export function* campaignEvents(options: CampaignOptions, fixtures: ReadonlyMap<EventType, Fixture>): Generator<CampaignEvent> {
  const plan = planOf(options);
  const heap = new DueHeap();
  const top = { rec: 0, step: 0 };
  let next = 0;
  // The lifecycles of the recipients seen last (a small cache, oldest out first): a recipient's first events
  // (sent, delivered) come seconds apart, so most are computed once; later ones (opens hours on) are recomputed.
  const cache = new Map<number, { l: Lifecycle; emailId: string }>();
  const life = (i: number): { l: Lifecycle; emailId: string } => {
    let hit = cache.get(i);
    if (hit === undefined) {
      const l = lifecycle(plan, i);
      hit = { l, emailId: emailIdOf(plan, i, l.sendAt) };
      setBounded(cache, i, hit, LIFECYCLE_CACHE);
    }
    return hit;
  };
  for (;;) {
    // Every recipient sent by the time of the heap's next event is in the heap (each one's first event is due no
    // earlier than its send time).
    while (next < options.recipients && (heap.size === 0 || Math.floor(next * plan.sendInterval) <= heap.topDue())) {
      heap.push((life(next).l.steps[0] as Step).due, next, 0);
      next++;
    }
    if (heap.size === 0) return;
    heap.pop(top);
    const { rec, step } = top;
    const { l, emailId } = life(rec);
    const s = l.steps[step] as Step;
    const { id, event } = buildEvent(plan, fixtures, rec, emailId, s);
    if (step + 1 < l.steps.length) heap.push((l.steps[step + 1] as Step).due, rec, step + 1);
    yield { due: s.due, recipient: rec, type: s.type, id, emailId, duplicate: s.duplicate, event };
  }
}

/** Recipient `i`'s final state: what an app that applied every event idempotently should hold. */
export function recipientOutcome(options: CampaignOptions, i: number): RecipientOutcome {
  const plan = planOf(options);
  const l = lifecycle(plan, i);
  return { recipient: recipientOf(plan, i).address, email_id: emailIdOf(plan, i, l.sendAt), ...l.outcome };
}

/** Every recipient's final state, in send order, generated as pulled. */
export function* campaignOutcomes(options: CampaignOptions): Generator<RecipientOutcome> {
  const plan = planOf(options);
  for (let i = 0; i < options.recipients; i++) {
    const l = lifecycle(plan, i);
    yield { recipient: recipientOf(plan, i).address, email_id: emailIdOf(plan, i, l.sendAt), ...l.outcome };
  }
}
