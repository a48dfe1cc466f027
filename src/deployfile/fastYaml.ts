// A fast path for the YAML that deploy files are made of: block mappings and sequences, one-line
// plain/quoted scalars and one-line flow collections, comments. It produces exactly what the `yaml`
// package path produces (values, key and value ranges; a property test compares the two) and gives up
// (returns undefined) on anything else — anchors, aliases, tags, block scalars, multi-line scalars,
// empty values, duplicate keys, escapes, syntax errors — which then go through `yaml` as before.
// Why: `yaml` builds a full CST and AST; for a typical 80-line file this is several times faster, and
// a fresh process often need not load `yaml` at all (time to first diagnostics).
import type { Range } from './model';
import type { NodeRanges, RawDocument } from './yamlDoc';
import { escapeSegment } from './ranges';

const BAIL = Symbol('bail');

function bail(): never {
  throw BAIL;
}

interface Line {
  start: number;
  /** Offset of the end of the line's text (before '\n'). */
  end: number;
  /** Offset after the '\n' (or the text's end). */
  next: number;
  indent: number;
  /** Blank or comment-only. */
  blank: boolean;
}

interface Parsed {
  value: unknown;
  start: number;
  /** End of the value's text (yaml's valueEnd). */
  end: number;
  /** End of the node including its line's comment and newline (yaml's nodeEnd for block content). */
  nodeEnd: number;
  /** Index of the first line after the value. */
  nextLine: number;
}

const KEY = /^[A-Za-z_][\w./-]*(?=:(?: |$))/;
const RESERVED_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** YAML 1.2 core schema, as the `yaml` package resolves plain scalars (odd forms give up). */
function resolvePlain(s: string): unknown {
  switch (s) {
    case '~': case 'null': case 'Null': case 'NULL': return null;
    case 'true': case 'True': case 'TRUE': return true;
    case 'false': case 'False': case 'FALSE': return false;
  }
  const c = s.charCodeAt(0);
  // Only strings that may be numbers need the regular expressions.
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (INT.test(s)) {
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : bail();
    }
    if (FLOAT.test(s)) return parseFloat(s);
    if (/^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/.test(s) || /^0[xo]/.test(s)) bail();
  }
  return s;
}

class FastParser {
  readonly lines: Line[] = [];
  readonly nodes = new Map<string, NodeRanges>();
  private lineStarts: number[] = [];

  constructor(private readonly text: string) {
    let start = 0;
    const n = text.length;
    while (start <= n) {
      let nl = text.indexOf('\n', start);
      if (nl === -1) nl = n;
      let i = start;
      while (i < nl && text.charCodeAt(i) === 32) i++;
      const c = i < nl ? text.charCodeAt(i) : -1;
      if (c === 9 || text.charCodeAt(nl - 1) === 13) bail(); // tabs in indentation, CRLF
      this.lines.push({ start, end: nl, next: nl < n ? nl + 1 : n, indent: i - start, blank: c === -1 || c === 35 });
      this.lineStarts.push(start);
      if (nl === n) break;
      start = nl + 1;
    }
  }

  pos(offset: number): { line: number; character: number } {
    const ls = this.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - ls[lo] };
  }

  range(start: number, end: number): Range {
    return { start: this.pos(start), end: this.pos(end) };
  }

  nextContent(li: number): number {
    for (let i = li; i < this.lines.length; i++) if (!this.lines[i].blank) return i;
    return -1;
  }

  document(): RawDocument | undefined {
    const t = this.text;
    let first = this.nextContent(0);
    if (first === -1) return undefined;
    const l0 = this.lines[first];
    if (l0.indent === 0 && t.startsWith('---', l0.start)) {
      if (!/^---(?: +(?:#.*)?)?$/.test(t.slice(l0.start, l0.end))) bail();
      first = this.nextContent(first + 1);
      if (first === -1) return undefined;
    }
    for (let i = first; i < this.lines.length; i++) {
      const l = this.lines[i];
      if (l.indent === 0 && !l.blank) {
        const c = t.charCodeAt(l.start);
        if (c === 37 /* % */ || t.startsWith('---', l.start) || t.startsWith('...', l.start)) bail();
      }
    }
    const root = this.lines[first];
    if (root.indent !== 0 || !KEY.test(t.slice(root.start, root.end))) bail();
    const parsed = this.blockMap(first, 0, root.start, '');
    if (this.nextContent(parsed.nextLine) !== -1) bail();
    const whole: Range = { start: { line: 0, character: 0 }, end: this.pos(t.length) };
    return { value: parsed.value, nodes: this.nodes, diagnostics: [], range: whole, broken: false, empty: false };
  }

  /** A block mapping whose keys sit at column `col`; the first key starts at `firstAt`. */
  blockMap(li: number, col: number, firstAt: number, path: string): Parsed {
    const t = this.text;
    const out: Record<string, unknown> = {};
    const keys: string[] = [];
    const here: NodeRanges = { value: { start: this.pos(firstAt), end: this.pos(firstAt) }, keys };
    if (!this.nodes.has(path)) this.nodes.set(path, here);
    else this.nodes.get(path)!.keys = keys;
    let at = firstAt;
    let nodeEnd = firstAt;
    let line = li;
    for (;;) {
      const l = this.lines[line];
      const m = KEY.exec(t.slice(at, l.end));
      if (!m) bail();
      const key = m[0];
      if (RESERVED_KEYS.has(key) || key in out) bail();
      const keyEnd = at + key.length;
      const childPath = `${path}/${escapeSegment(key)}`;
      let v = keyEnd + 1;
      while (v < l.end && t.charCodeAt(v) === 32) v++;
      let parsed: Parsed;
      const entry: NodeRanges = { key: this.range(at, keyEnd), value: this.range(at, at) };
      this.nodes.set(childPath, entry);
      if (v === l.end || t.charCodeAt(v) === 35) {
        if (v !== l.end && t.charCodeAt(v - 1) !== 32) bail();
        const ni = this.nextContent(line + 1);
        if (ni === -1) bail();
        const nl = this.lines[ni];
        const dash = t.charCodeAt(nl.start + nl.indent) === 45 && (nl.start + nl.indent + 1 === nl.end || t.charCodeAt(nl.start + nl.indent + 1) === 32);
        if (nl.indent > col) parsed = dash ? this.blockSeq(ni, nl.indent, childPath) : this.blockMapAt(ni, childPath);
        else if (nl.indent === col && dash) parsed = this.blockSeq(ni, col, childPath);
        else bail();
      } else {
        parsed = this.inline(line, v, childPath, col);
      }
      entry.value = this.range(parsed.start, parsed.end);
      out[key] = parsed.value;
      keys.push(key);
      nodeEnd = parsed.nodeEnd;
      const ni = this.nextContent(parsed.nextLine);
      if (ni === -1) {
        line = this.lines.length;
        break;
      }
      const nl = this.lines[ni];
      if (nl.indent < col) {
        line = ni;
        break;
      }
      if (nl.indent > col) bail();
      if (t.charCodeAt(nl.start + nl.indent) === 45 /* - */) {
        // A sequence at the key column belongs to the parent mapping's key, if any: let it decide.
        line = ni;
        break;
      }
      line = ni;
      at = nl.start + nl.indent;
    }
    here.value = this.range(firstAt, nodeEnd);
    return { value: out, start: firstAt, end: nodeEnd, nodeEnd, nextLine: line };
  }

  private blockMapAt(li: number, path: string): Parsed {
    const l = this.lines[li];
    return this.blockMap(li, l.indent, l.start + l.indent, path);
  }

  /** A block sequence whose dashes sit at column `col`. */
  blockSeq(li: number, col: number, path: string): Parsed {
    const t = this.text;
    const out: unknown[] = [];
    const first = this.lines[li].start + col;
    const here: NodeRanges = { value: this.range(first, first) };
    if (!this.nodes.has(path)) this.nodes.set(path, here);
    let line = li;
    let nodeEnd = first;
    for (let i = 0; ; i++) {
      const l = this.lines[line];
      const dashAt = l.start + col;
      let v = dashAt + 1;
      if (v >= l.end || t.charCodeAt(v) !== 32) bail();
      while (v < l.end && t.charCodeAt(v) === 32) v++;
      if (v === l.end || t.charCodeAt(v) === 35 || t.charCodeAt(v) === 45) bail();
      const childPath = `${path}/${i}`;
      const item: NodeRanges = { value: this.range(v, v) };
      this.nodes.set(childPath, item);
      let parsed: Parsed;
      if (KEY.test(t.slice(v, l.end))) parsed = this.blockMap(line, v - l.start, v, childPath);
      else parsed = this.inline(line, v, childPath, col);
      item.value = this.range(parsed.start, parsed.end);
      out.push(parsed.value);
      nodeEnd = parsed.nodeEnd;
      const ni = this.nextContent(parsed.nextLine);
      if (ni === -1) {
        line = this.lines.length;
        break;
      }
      const nl = this.lines[ni];
      if (nl.indent < col) {
        line = ni;
        break;
      }
      if (nl.indent > col) bail();
      if (t.charCodeAt(nl.start + col) !== 45) {
        line = ni;
        break;
      }
      line = ni;
    }
    here.value = this.range(first, nodeEnd);
    return { value: out, start: first, end: nodeEnd, nodeEnd, nextLine: line };
  }

  /** A one-line value in block context starting at `v` on line `li`; nothing may follow but a comment. */
  inline(li: number, v: number, path: string, col: number): Parsed {
    const t = this.text;
    const l = this.lines[li];
    const c = t.charCodeAt(v);
    let value: unknown;
    let end: number;
    if (c === 34 || c === 39) {
      [value, end] = this.quoted(v, l.end);
    } else if (c === 91 || c === 123) {
      [value, end] = this.flow(v, l.end, path);
    } else {
      [value, end] = this.plainBlock(v, l.end);
    }
    // Only spaces and a comment (after a space) may follow on the line.
    let k = end;
    while (k < l.end && t.charCodeAt(k) === 32) k++;
    if (k < l.end && !(t.charCodeAt(k) === 35 && k > end)) bail();
    // A more indented line after a scalar would continue it (multi-line plain scalar): give up.
    const ni = this.nextContent(li + 1);
    if (ni !== -1 && this.lines[ni].indent > col) bail();
    return { value, start: v, end, nodeEnd: l.next, nextLine: li + 1 };
  }

  private plainBlock(v: number, lineEnd: number): [unknown, number] {
    const t = this.text;
    const c = t[v];
    if ('&*!|>%@`,[]{}#'.includes(c)) bail();
    if ((c === '-' || c === '?' || c === ':') && (v + 1 >= lineEnd || t.charCodeAt(v + 1) === 32)) bail();
    let end = lineEnd;
    const hash = t.slice(v, lineEnd).indexOf(' #');
    if (hash !== -1) end = v + hash;
    while (end > v && t.charCodeAt(end - 1) === 32) end--;
    const s = t.slice(v, end);
    if (s.includes(': ') || s.endsWith(':') || s.includes('\t')) bail();
    return [resolvePlain(s), end];
  }

  private quoted(v: number, lineEnd: number): [string, number] {
    const t = this.text;
    const q = t[v];
    if (q === '"') {
      const close = t.indexOf('"', v + 1);
      if (close === -1 || close >= lineEnd) bail();
      const s = t.slice(v + 1, close);
      if (s.includes('\\')) bail();
      return [s, close + 1];
    }
    let i = v + 1;
    let s = '';
    for (;;) {
      const close = t.indexOf("'", i);
      if (close === -1 || close >= lineEnd) bail();
      s += t.slice(i, close);
      if (t[close + 1] === "'") {
        s += "'";
        i = close + 2;
      } else return [s, close + 1];
    }
  }

  /** A flow collection that opens and closes on this line. */
  private flow(v: number, lineEnd: number, path: string): [unknown, number] {
    const t = this.text;
    const open = t[v];
    const closeCh = open === '[' ? ']' : '}';
    let i = v + 1;
    const skip = () => {
      while (i < lineEnd && t.charCodeAt(i) === 32) i++;
    };
    if (open === '[') {
      const out: unknown[] = [];
      const node = this.ensure(path, v);
      skip();
      if (t[i] === ']') bail();
      for (let n = 0; ; n++) {
        const childPath = `${path}/${n}`;
        const item: NodeRanges = { value: this.range(i, i) };
        this.nodes.set(childPath, item);
        const [value, end] = this.flowItem(i, lineEnd, childPath);
        item.value = this.range(i, end);
        out.push(value);
        i = end;
        skip();
        if (t[i] === ',') {
          i++;
          skip();
          if (t[i] === ']') bail();
          continue;
        }
        if (t[i] === ']') break;
        bail();
      }
      node.value = this.range(v, i + 1);
      return [out, i + 1];
    }
    const out: Record<string, unknown> = {};
    const keys: string[] = [];
    const node = this.ensure(path, v);
    node.keys = keys;
    skip();
    if (t[i] === '}') bail();
    for (;;) {
      const m = KEY.exec(t.slice(i, lineEnd));
      if (!m) bail();
      const key = m[0];
      if (RESERVED_KEYS.has(key) || key in out) bail();
      const keyEnd = i + key.length;
      i = keyEnd + 1;
      skip();
      const childPath = `${path}/${escapeSegment(key)}`;
      const entry: NodeRanges = { key: this.range(keyEnd - key.length, keyEnd), value: this.range(i, i) };
      this.nodes.set(childPath, entry);
      if (t[i] === ',' || t[i] === '}') bail();
      const [value, end] = this.flowItem(i, lineEnd, childPath);
      entry.value = this.range(i, end);
      out[key] = value;
      keys.push(key);
      i = end;
      skip();
      if (t[i] === ',') {
        i++;
        skip();
        if (t[i] === '}') bail();
        continue;
      }
      if (t[i] === closeCh) break;
      bail();
    }
    node.value = this.range(v, i + 1);
    return [out, i + 1];
  }

  /** The entry a parent already made for `path` (it holds the key range), or a new one. */
  private ensure(path: string, at: number): NodeRanges {
    let n = this.nodes.get(path);
    if (!n) {
      n = { value: this.range(at, at) };
      this.nodes.set(path, n);
    }
    return n;
  }

  private flowItem(i: number, lineEnd: number, path: string): [unknown, number] {
    const t = this.text;
    const c = t[i];
    if (c === '"' || c === "'") return this.quoted(i, lineEnd);
    if (c === '[' || c === '{') return this.flow(i, lineEnd, path);
    if (i >= lineEnd || '&*!|>%@`,]}#'.includes(c)) bail();
    if ((c === '-' || c === '?' || c === ':') && (i + 1 >= lineEnd || t.charCodeAt(i + 1) === 32)) bail();
    let end = i;
    while (end < lineEnd) {
      const ch = t[end];
      if (ch === ',' || ch === ']' || ch === '}') break;
      if (ch === '[' || ch === '{' || ch === '\t') bail();
      if (ch === '#' && t[end - 1] === ' ') bail();
      // `a:b` is part of a plain scalar in flow context; `a: b` / `a:,` would be a key.
      if (ch === ':' && (end + 1 >= lineEnd || ' ,]}'.includes(t[end + 1]))) bail();
      end++;
    }
    while (end > i && t.charCodeAt(end - 1) === 32) end--;
    if (end === i) bail();
    return [resolvePlain(t.slice(i, end)), end];
  }
}

/** The document of a chunk through the fast path, or undefined to use the `yaml` package. */
export function parseFast(text: string): RawDocument[] | undefined {
  try {
    const p = new FastParser(text);
    const doc = p.document();
    return doc ? [doc] : undefined;
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  }
}
