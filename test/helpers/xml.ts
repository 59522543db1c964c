// A small, strict XML reader for tests (JUnit reports): elements, attributes, text, the five named entities and
// character references, comments and the XML declaration. It throws on anything not well-formed (mismatched or
// missing end tags, a raw `<` or `&` in text, unquoted or duplicate attributes, characters XML forbids, content
// after the root), which is what a test of a writer needs. No DTDs, CDATA or processing instructions.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

const NAME_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:';
const NAME_CHARS = `${NAME_START}0123456789.-`;
const SPACE = ' \t\r\n';

/** Parses a whole document and returns its root element; throws an Error naming the offset on malformed input. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (message: string): never => {
    throw new Error(`malformed XML at offset ${i}: ${message}`);
  };
  const skipSpace = (): void => {
    while (i < src.length && SPACE.includes(src.charAt(i))) i++;
  };
  const readName = (): string => {
    const start = i;
    if (!NAME_START.includes(src.charAt(i)) || i >= src.length) fail('a name was expected');
    while (i < src.length && NAME_CHARS.includes(src.charAt(i))) i++;
    return src.slice(start, i);
  };
  const decode = (raw: string): string => {
    let out = '';
    for (let j = 0; j < raw.length; j++) {
      const ch = raw.charAt(j);
      const code = ch.charCodeAt(0);
      if (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') fail(`character U+${code.toString(16).padStart(4, '0')} is not allowed`);
      if (ch === '<') fail('a raw "<" in text or in an attribute');
      if (ch !== '&') {
        out += ch;
        continue;
      }
      const end = raw.indexOf(';', j);
      if (end < 0) fail('an unterminated entity');
      const name = raw.slice(j + 1, end);
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (name in named) out += named[name];
      else if (name.startsWith('#x') && name.length > 2) out += String.fromCodePoint(Number.parseInt(name.slice(2), 16));
      else if (name.startsWith('#') && name.length > 1 && [...name.slice(1)].every((d) => d >= '0' && d <= '9')) out += String.fromCodePoint(Number(name.slice(1)));
      else fail(`unknown entity &${name};`);
      j = end;
    }
    return out;
  };
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('an unterminated comment');
        i = end + 3;
      } else return;
    }
  };
  const parseElement = (): XmlElement => {
    if (src.charAt(i) !== '<') fail('"<" expected');
    i++;
    const name = readName();
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = i;
      skipSpace();
      if (src.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (src.charAt(i) === '>') {
        i++;
        break;
      }
      if (i === before) fail('a space was expected before an attribute');
      const attr = readName();
      if (attr in attrs) fail(`duplicate attribute ${attr}`);
      skipSpace();
      if (src.charAt(i) !== '=') fail('"=" expected');
      i++;
      skipSpace();
      const quote = src.charAt(i);
      if (quote !== '"' && quote !== "'") fail('a quoted attribute value was expected');
      const end = src.indexOf(quote, i + 1);
      if (end < 0) fail('an unterminated attribute value');
      attrs[attr] = decode(src.slice(i + 1, end));
      i = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (i >= src.length) fail(`</${name}> is missing`);
      if (src.startsWith('</', i)) {
        i += 2;
        const close = readName();
        if (close !== name) fail(`</${close}> closes <${name}>`);
        skipSpace();
        if (src.charAt(i) !== '>') fail('">" expected');
        i++;
        return { name, attrs, children, text };
      }
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('an unterminated comment');
        i = end + 3;
        continue;
      }
      if (src.startsWith('<!', i) || src.startsWith('<?', i)) fail('CDATA, DTDs and processing instructions are not supported');
      if (src.charAt(i) === '<') {
        children.push(parseElement());
        continue;
      }
      const next = src.indexOf('<', i);
      const end = next < 0 ? src.length : next;
      text += decode(src.slice(i, end));
      i = end;
    }
  };

  if (src.charCodeAt(0) === 0xfeff) i = 1;
  if (src.startsWith('<?xml', i)) {
    const end = src.indexOf('?>', i);
    if (end < 0) fail('an unterminated XML declaration');
    i = end + 2;
  }
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (i !== src.length) fail('content after the root element');
  return root;
}

/** Every element named `name` under `el` (depth first, `el` excluded). */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (const child of el.children) {
    if (child.name === name) found.push(child);
    found.push(...findAll(child, name));
  }
  return found;
}
