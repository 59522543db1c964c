// The one display sanitiser: every string that comes from outside (payload fields, headers, responses, file lines,
// paths, error messages) passes through here before it reaches a terminal. Control characters are shown escaped
// (`\x1b`, `\n`, `\u202e`), never sent raw: a title-setting sequence or a clear-screen in an unsigned request must
// not reach the developer's terminal, and a right-to-left override must not reorder what a line says.

/**
 * C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text (bidi embeddings,
 * overrides and isolates, the Arabic letter mark, line and paragraph separators).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\x1b' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** True when `text` holds a character that must not reach a terminal raw. */
export function hasUnsafe(text: string): boolean {
  return UNSAFE.test(text);
}

/** `text` with every control and reordering character escaped (`\x1b`, `\n`, `\u202e`). */
export function escapeControls(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/**
 * A cell of a line: escaped, and cut to `max` characters (when given) with what was cut said, e.g.
 * `Welcome to…(+921,600 chars)`.
 */
export function cell(text: string, max?: number): string {
  const safe = escapeControls(text);
  if (max === undefined || safe.length <= max) return safe;
  const note = `…(+${(safe.length - max).toLocaleString('en-US')} chars)`;
  const keep = Math.max(1, max - note.length);
  return `${safe.slice(0, keep)}${note}`;
}

/**
 * The SGR codes chalk emits for the styles onepush uses (bold, dim, the six colours, gray, and their resets). A
 * line written to a colour terminal may carry these and nothing else: an SGR that conceals or blinks is escaped too.
 */
const OUR_SGR = new Set(['0', '1', '2', '22', '31', '32', '33', '34', '35', '36', '39', '90']);
const SGR_OR_UNSAFE = new RegExp(`\\u001b\\[([0-9;]*)m|${UNSAFE.source}`, 'g');

/**
 * The last guard before a terminal (the Output adapter applies it to every line): with `colour`, the SGR sequences
 * of our own styles pass and every other control is escaped; without, every control is escaped. Renderers still
 * escape fields themselves (so an injected colour cannot pass as ours); this catches whatever they missed.
 */
export function terminalSafe(line: string, colour: boolean): string {
  if (!UNSAFE.test(line)) return line;
  if (!colour) return line.replace(UNSAFE_ALL, escapeChar);
  return line.replace(SGR_OR_UNSAFE, (m: string, params: string | undefined) => {
    if (params !== undefined && params.split(';').every((p) => OUR_SGR.has(p))) return m;
    return m.length === 1 ? escapeChar(m) : `\\x1b${m.slice(1)}`;
  });
}

/** Characters JSON.stringify leaves raw that a terminal would act on: DEL, C1, bidi and line separators. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const JSON_UNSAFE_ALL = new RegExp(JSON_UNSAFE.source, 'g');

/**
 * A JSON text with the characters a terminal would act on written as `\uXXXX`: the same JSON value (they can only
 * stand inside strings, where the escape means the same character), safe to print even to a terminal.
 */
export function jsonSafe(json: string): string {
  return JSON_UNSAFE.test(json) ? json.replace(JSON_UNSAFE_ALL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** JSON.stringify, then jsonSafe: the one way a JSON line is made for output. */
export function toJsonLine(value: unknown): string {
  return jsonSafe(JSON.stringify(value));
}

/** A URL for display: the password replaced by `***` (credentials are sent as Basic auth, never printed). */
export function redactUrl(url: URL | string): string {
  if (typeof url === 'string') return redactUrlText(url);
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/** `scheme://user:password@` in any text (an error message quoting a flag) → `scheme://user:***@`. */
export function redactUrlText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:***@');
}

/**
 * An argument of a command line that onepush prints for the user to paste (a replay hint): as it is when plain,
 * else single-quoted, so an id or a path from outside can never run anything in the user's shell.
 */
export function shellArg(text: string): string {
  const safe = escapeControls(text);
  return /^[\w./:@%+=,-]+$/.test(safe) ? safe : `'${safe.replace(/'/g, `'\\''`)}'`;
}
