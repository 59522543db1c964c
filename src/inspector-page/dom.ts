// Tiny DOM helpers. Text goes in through textContent and attributes through setAttribute only: the page shows
// hostile data (payloads, headers, the app's responses), so nothing here ever parses a string as HTML.

export type Child = Node | string | null | undefined | false;

export interface Props {
  id?: string;
  class?: string;
  text?: string;
  title?: string;
  /** Fixed attribute names of the page's own (never from data); values are set as plain strings. */
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.id !== undefined) e.id = props.id;
  if (props.class !== undefined) e.className = props.class;
  if (props.title !== undefined) e.title = props.title;
  if (props.attrs !== undefined) for (const [k, v] of Object.entries(props.attrs)) e.setAttribute(k, v);
  if (props.text !== undefined) e.textContent = props.text;
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

/** Removes every child of an element. */
export function clear(e: Element): void {
  while (e.lastChild) e.removeChild(e.lastChild);
}

/** Replaces an element's children. */
export function fill(e: Element, ...children: Child[]): void {
  clear(e);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing`);
  return e as T;
}

export function option(value: string, label: string, selected = false): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  o.selected = selected;
  return o;
}
