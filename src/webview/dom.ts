// A tiny element builder: text always goes through textContent (never innerHTML), so nothing from a
// snapshot (image names, test logs, PromQL, event messages) can inject markup into the webview.

export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | undefined | null>;

export function h(doc: Document, tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'className') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? el.ownerDocument!.createTextNode(c) : c);
  }
}

/** Replaces all children of `el` (cheaper and safer than innerHTML = ''). */
export function replaceChildren(el: Element, children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
