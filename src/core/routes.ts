import { globList, globMatch } from './event-types.js';
import { InvalidInput } from './errors.js';
import { DEFAULT_TARGET } from './defaults.js';
import { resolveTarget } from './target.js';

// Routes: where each event type goes, as a OnePush dashboard lets each type have its own endpoint. A route is
// `TYPES=URL` (names or globs, comma-separated: `email.bounced,email.c*=:3000/webhooks/bounces`) or a bare URL or
// shorthand, which takes every type. Pure: used by every command that names a target.

/** One route: the globs it takes (null: every type) and the endpoint it goes to. */
export interface Route {
  /** The type globs, or null for a bare URL (every type). */
  types: readonly string[] | null;
  url: URL;
  /** The route as written (for messages; may hold a password: redact before showing). */
  spec: string;
}

// A types list: letters, digits and `._-*?`, comma-separated. Nothing in it can be read as a URL (no `:` or `/`),
// so `http://host/x?a=b` and `:3000/x?a=b` stay bare URLs.
const TYPES_PART = /^\s*[A-Za-z0-9._*?-]+(?:\s*,\s*[A-Za-z0-9._*?-]+)*\s*$/;

/** Parses one route (`TYPES=URL` or a bare URL/shorthand); throws InvalidInput naming what is wrong. */
export function parseRoute(spec: string): Route {
  const eq = spec.indexOf('=');
  if (eq > 0 && TYPES_PART.test(spec.slice(0, eq))) {
    const types = globList(spec.slice(0, eq));
    const target = spec.slice(eq + 1);
    if (target.trim() === '') throw new InvalidInput(`route "${spec.slice(0, eq)}=" has no URL`, 'write TYPES=URL, e.g. email.bounced,email.c*=:3000/webhooks/bounces');
    return { types, url: resolveTarget(target), spec };
  }
  if (eq === 0) throw new InvalidInput(`route "${spec}" has no types before "="`, 'write TYPES=URL, e.g. email.bounced=:3000, or a bare URL for every type');
  return { types: null, url: resolveTarget(spec), spec };
}

/** Parses every route given (a repeated `--to`); an empty list is an InvalidInput. */
export function parseRoutes(specs: readonly string[]): Route[] {
  if (specs.length === 0) throw new InvalidInput('no target given', 'name one: a URL or a shorthand (3000, :3000), or TYPES=URL');
  return specs.map(parseRoute);
}

/** The routes of a use case's `to` option: one route, several, or (absent) the listener's URL. */
export function routesOf(to: string | readonly string[] | undefined): Route[] {
  return parseRoutes(to === undefined ? [DEFAULT_TARGET] : typeof to === 'string' ? [to] : to);
}

/** Whether a route takes events of `type`. */
export function routeMatches(route: Route, type: string): boolean {
  return route.types === null || route.types.some((g) => globMatch(g, type));
}

/**
 * The endpoints an event of `type` goes to: every matching route's URL, each once (two routes naming the same URL
 * deliver to it once), in the order the routes were given. Empty: the type is not routed.
 */
export function routeEvent(routes: readonly Route[], type: string): URL[] {
  const out: URL[] = [];
  for (const r of routes) {
    if (routeMatches(r, type) && !out.some((u) => u.href === r.url.href)) out.push(r.url);
  }
  return out;
}

/** The distinct endpoints of a set of routes, in the order first named. */
export function routeEndpoints(routes: readonly Route[]): URL[] {
  const out: URL[] = [];
  for (const r of routes) if (!out.some((u) => u.href === r.url.href)) out.push(r.url);
  return out;
}

/**
 * A router for a hot path: the endpoints of each type computed once (types are few; unknown types are looked up
 * and remembered, at most `cap` of them).
 */
export function createRouter(routes: readonly Route[], cap = 1024): (type: string) => readonly URL[] {
  const cache = new Map<string, URL[]>();
  return (type) => {
    let hit = cache.get(type);
    if (hit === undefined) {
      hit = routeEvent(routes, type);
      if (cache.size < cap) cache.set(type, hit);
    }
    return hit;
  };
}
