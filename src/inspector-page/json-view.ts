// Pretty JSON with colours: the text is tokenised here and each token becomes a <span> holding it as a text node
// (never HTML). Past HIGHLIGHT_LIMIT characters the rest goes in as plain text, so a huge body stays cheap.

const TOKEN = /("(?:[^"\\\n]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;
const HIGHLIGHT_LIMIT = 200_000;

export function highlightJson(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  const head = text.length > HIGHLIGHT_LIMIT ? text.slice(0, HIGHLIGHT_LIMIT) : text;
  let plain = '';
  const span = (cls: string, s: string): void => {
    if (plain !== '') {
      frag.appendChild(document.createTextNode(plain));
      plain = '';
    }
    const e = document.createElement('span');
    e.className = cls;
    e.textContent = s;
    frag.appendChild(e);
  };
  let last = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(head); m !== null; m = TOKEN.exec(head)) {
    plain += head.slice(last, m.index);
    if (m[1] !== undefined) {
      if (m[2] !== undefined) {
        span('j-key', m[1]);
        plain += m[2];
      } else span('j-str', m[1]);
    } else if (m[3] !== undefined) span('j-num', m[3]);
    else if (m[4] !== undefined) span('j-lit', m[4]);
    last = m.index + m[0].length;
  }
  plain += head.slice(last);
  if (head.length < text.length) plain += text.slice(head.length);
  if (plain !== '') frag.appendChild(document.createTextNode(plain));
  return frag;
}
