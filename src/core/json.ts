// JSON from outside (bodies, capture lines, fixtures, --data, --set values) is parsed here, with a nesting limit.
// JSON.parse itself is iterative, but everything after it that walks a value (JSON.stringify, zod, structuredClone,
// deep merges) recurses, and a ~10 KB body nested 5,000 deep overflows the stack. So a value nested deeper than
// MAX_JSON_DEPTH is refused before it is parsed: no code path ever walks deeper than that.

/** How deep objects and arrays may nest in any JSON that onepush reads (README: Limits). */
export const MAX_JSON_DEPTH = 100;

/** JSON nested deeper than the limit. */
export class JsonDepthError extends Error {
  constructor(readonly limit: number) {
    super(`JSON nested deeper than ${limit} levels`);
    this.name = 'JsonDepthError';
  }
}

/**
 * True when the brackets of `text` nest at most `limit` deep (strings are skipped). Linear; counting the opening
 * brackets first (native indexOf) settles the common case, a small event, without a character loop.
 */
export function withinDepth(text: string, limit = MAX_JSON_DEPTH): boolean {
  let opening = 0;
  for (let i = text.indexOf('{'); i !== -1 && opening <= limit; i = text.indexOf('{', i + 1)) opening++;
  for (let i = text.indexOf('['); i !== -1 && opening <= limit; i = text.indexOf('[', i + 1)) opening++;
  if (opening <= limit) return true;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

/** JSON.parse with the nesting limit: throws JsonDepthError when too deep, SyntaxError when not JSON. */
export function parseJson(text: string, limit = MAX_JSON_DEPTH): unknown {
  if (!withinDepth(text, limit)) throw new JsonDepthError(limit);
  return JSON.parse(text);
}

/** How a parse failed, in words: "not valid JSON (…)" or "JSON nested deeper than 100 levels". */
export function jsonProblem(e: unknown): string {
  if (e instanceof JsonDepthError) return e.message;
  return `not valid JSON (${e instanceof Error ? e.message : String(e)})`;
}
