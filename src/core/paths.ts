import { JsonDepthError, MAX_JSON_DEPTH, parseJson } from './json.js';

// Dotted paths into JSON values, for `trigger --set/--unset/--data`.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function splitPath(path: string): string[] {
  const parts = path.split('.');
  if (path === '' || parts.some((p) => p === '')) throw new TypeError(`bad path "${path}": use dotted names like data.bounce.type`);
  if (parts.length > MAX_JSON_DEPTH) throw new TypeError(`path of ${parts.length} parts is deeper than ${MAX_JSON_DEPTH} levels`);
  return parts;
}

/** Sets `path` (dotted; numeric parts index arrays) in `target`, creating objects on the way. Mutates. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = splitPath(path);
  let cur: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    const next: unknown = (cur as Record<string, unknown>)[key];
    if (next === null || typeof next !== 'object') {
      const created: Record<string, unknown> = {};
      (cur as Record<string, unknown>)[key] = created;
      cur = created;
    } else {
      cur = next as Record<string, unknown>;
    }
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(cur) && /^\d+$/.test(last)) cur[Number(last)] = value;
  else (cur as Record<string, unknown>)[last] = value;
}

/** Removes `path` from `target`; returns false when it was not there. Mutates. */
export function unsetPath(target: Record<string, unknown>, path: string): boolean {
  const parts = splitPath(path);
  let cur: unknown = target;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[parts[i] as string];
  }
  const last = parts[parts.length - 1] as string;
  if (cur === null || typeof cur !== 'object' || !(last in cur)) return false;
  if (Array.isArray(cur) && /^\d+$/.test(last)) cur.splice(Number(last), 1);
  else delete (cur as Record<string, unknown>)[last];
  return true;
}

/** Deep-merges `patch` into `target`: objects merge key by key, anything else (arrays too) replaces. Mutates. */
export function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    const existing = target[key];
    if (isObject(existing) && isObject(value)) deepMerge(existing, value);
    else target[key] = value;
  }
  return target;
}

/**
 * `--set` values: JSON when the text is valid JSON (`5`, `true`, `"x"`, `[1]`), else the text itself. JSON nested
 * deeper than the limit throws JsonDepthError.
 */
export function parseSetValue(text: string): unknown {
  try {
    return parseJson(text) as Json;
  } catch (e) {
    if (e instanceof JsonDepthError) throw e;
    return text;
  }
}
