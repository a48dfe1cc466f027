// YAML text → plain values plus the source range of every key and value, keyed by JSON pointer.
// We walk the `yaml` AST ourselves instead of calling toJS() so that (1) every value keeps its range,
// (2) duplicate keys are reported at the second key with a pointer to the first, and (3) alias
// expansion is bounded by a node budget: a "billion laughs" document costs a few thousand steps and
// yields one diagnostic instead of hanging the editor.
import { parseAllDocuments, isAlias, isMap, isScalar, isSeq, isPair, type Document, type Node, type Alias } from 'yaml';
import type { Diagnostic, Range } from './model';
import { escapeSegment } from './ranges';

export interface NodeRanges {
  /** Range of the key, for mapping values. */
  key?: Range;
  /** Range of the value (for a collection: the whole block). */
  value: Range;
  /** For mappings: the keys in source order (completion and outline use it). */
  keys?: string[];
}

export interface RawDocument {
  value: unknown;
  /** JSON pointer → ranges. The root is ''. */
  nodes: Map<string, NodeRanges>;
  /** Syntax-level diagnostics (KD001-KD004). */
  diagnostics: Diagnostic[];
  /** Whole document, including comments before it. */
  range: Range;
  /** True when syntax errors make schema and rule checks meaningless for this document. */
  broken: boolean;
  /** True for a document with no content (only comments, or nothing between two `---`). */
  empty: boolean;
}

/** Upper bound on nodes produced by expanding aliases in one document. */
export const ALIAS_NODE_BUDGET = 10_000;
const MAX_DEPTH = 200;

class Walker {
  aliasBudget = ALIAS_NODE_BUDGET;
  aliasExhausted = false;
  tooDeep = false;
  readonly nodes = new Map<string, NodeRanges>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly doc: Document,
    private readonly toRange: (start: number, end: number) => Range,
    private readonly testsPointer: string,
  ) {}

  nodeRange(node: Node | null | undefined, fallback: Range): Range {
    const r = node?.range;
    return r ? this.toRange(r[0], r[1]) : fallback;
  }

  /**
   * Converts `node` to a plain value, recording ranges under `path`. Inside an alias expansion
   * (`viaAlias`), ranges are not recorded: errors inside point at the alias itself.
   */
  walk(node: Node | null | undefined, path: string, here: Range, depth: number, viaAlias: boolean): unknown {
    if (node == null) return null;
    if (viaAlias) {
      if (--this.aliasBudget < 0) {
        this.aliasExhausted = true;
        return null;
      }
    }
    if (depth > MAX_DEPTH) {
      this.tooDeep = true;
      return null;
    }
    if (isAlias(node)) {
      const target = (node as Alias).resolve(this.doc);
      if (!target) return null;
      if (this.aliasExhausted) return null;
      return this.walk(target as Node, path, here, depth + 1, true);
    }
    if (isScalar(node)) return node.value ?? null;
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const firstKeyAt = new Map<string, Range>();
      const keys: string[] = [];
      if (!viaAlias) this.set(path, { value: here, keys });
      const merges: Node[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const keyRange = this.nodeRange(keyNode, here);
        let key: string;
        if (keyNode == null) key = '';
        else if (isScalar(keyNode)) key = keyNode.value == null ? '' : String(keyNode.value);
        else key = String(keyNode);
        if (key === '<<' && !viaAlias && isScalar(keyNode) && keyNode.source === '<<') {
          if (pair.value) merges.push(pair.value as Node);
          continue;
        }
        const valueNode = pair.value as Node | null;
        const childPath = `${path}/${escapeSegment(key)}`;
        const valueRange = valueNode?.range ? this.toRange(valueNode.range[0], valueNode.range[1]) : { start: keyRange.end, end: keyRange.end };
        const first = firstKeyAt.get(key);
        if (first) {
          if (!viaAlias) this.duplicate(key, path, keyRange, first);
          continue;
        }
        firstKeyAt.set(key, keyRange);
        keys.push(key);
        if (!viaAlias) this.set(childPath, { key: keyRange, value: valueRange });
        out[key] = this.walk(valueNode, childPath, valueRange, depth + 1, viaAlias);
      }
      // `<<: *defaults` merges keys the map does not set itself (YAML 1.1 merge keys, common in k8s files).
      for (const m of merges) {
        const sources = isSeq(m) ? (m.items as Node[]) : [m];
        for (const s of sources) {
          const v = this.walk(s, path, this.nodeRange(s, here), depth + 1, true);
          if (v && typeof v === 'object' && !Array.isArray(v)) {
            for (const [k, x] of Object.entries(v)) if (!(k in out)) out[k] = x;
          }
        }
      }
      return out;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      if (!viaAlias) this.set(path, { value: here });
      node.items.forEach((item, i) => {
        const itemNode = item as Node | null;
        const childPath = `${path}/${i}`;
        const r = this.nodeRange(itemNode, here);
        if (!viaAlias) this.set(childPath, { value: r });
        out.push(this.walk(itemNode, childPath, r, depth + 1, viaAlias));
      });
      return out;
    }
    return null;
  }

  private set(path: string, ranges: NodeRanges): void {
    const existing = this.nodes.get(path);
    if (existing) {
      if (ranges.keys) existing.keys = ranges.keys;
      return;
    }
    this.nodes.set(path, ranges);
  }

  private duplicate(key: string, mapPath: string, at: Range, first: Range): void {
    const firstLine = first.start.line + 1;
    if (mapPath === this.testsPointer) {
      this.diagnostics.push({ code: 'KD112', severity: 'error', message: `test \`${key}\` is defined twice (first on line ${firstLine}); give each test its own name`, range: at });
    } else {
      this.diagnostics.push({ code: 'KD002', severity: 'error', message: `key \`${key}\` appears twice in this mapping (first on line ${firstLine}); YAML keeps only one, remove or rename this one`, range: at });
    }
  }
}

/** Counts lines in text[from, to). */
function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Parses one chunk of a deploy file (one or more YAML documents). Ranges are relative to the chunk's
 * first line; the caller shifts them.
 */
export function parseYamlDocuments(text: string): RawDocument[] {
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false, keepSourceTokens: false }) as Document.Parsed[];
    if (!Array.isArray(docs)) docs = [];
  } catch (err) {
    // The parser has no known throwing paths left, but a deploy file must never crash the editor.
    const lines = countLines(text, 0, text.length);
    return [brokenDocument(`the YAML parser failed: ${(err as Error).message}`, lines)];
  }
  // Our own line index: the yaml LineCounter misses newlines inside some error tokens.
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const toPos = (offset: number) => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - lineStarts[lo] };
  };
  const toRange = (start: number, end: number): Range => ({ start: toPos(start), end: toPos(Math.max(start, end)) });
  const out: RawDocument[] = [];
  let prevEnd = 0;
  for (const doc of docs) {
    const [, , docEnd] = doc.range;
    const docRange = toRange(prevEnd, docEnd);
    prevEnd = docEnd;
    const walker = new Walker(doc, toRange, '/spec/tests');
    const diagnostics: Diagnostic[] = [];
    let broken = false;
    for (const e of doc.errors) {
      broken = true;
      diagnostics.push({ code: 'KD001', severity: 'error', message: syntaxMessage(e.code, e.message), range: toRange(e.pos[0], e.pos[1]) });
    }
    for (const w of doc.warnings) {
      diagnostics.push({ code: 'KD001', severity: 'warning', message: syntaxMessage(w.code, w.message), range: toRange(w.pos[0], w.pos[1]) });
    }
    const contents = doc.contents as Node | null;
    const empty = contents == null || (isScalar(contents) && contents.value == null && !contents.source);
    const rootRange = contents?.range ? toRange(contents.range[0], contents.range[1]) : docRange;
    let value: unknown = null;
    if (!empty) {
      value = walker.walk(contents, '', rootRange, 0, false);
      diagnostics.push(...walker.diagnostics);
      if (walker.aliasExhausted) {
        broken = true;
        diagnostics.push({
          code: 'KD003',
          severity: 'error',
          message: `aliases in this document expand to more than ${ALIAS_NODE_BUDGET} nodes; this looks like a "billion laughs" document: expand fewer aliases`,
          range: firstAliasRange(contents, toRange) ?? rootRange,
        });
      }
      if (walker.tooDeep) {
        broken = true;
        diagnostics.push({ code: 'KD001', severity: 'error', message: `the document nests deeper than ${MAX_DEPTH} levels`, range: rootRange });
      }
      if (!broken && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        broken = true;
        const got = Array.isArray(value) ? 'a list' : `${typeof value} \`${String(value)}\``;
        diagnostics.push({ code: 'KD004', severity: 'error', message: `a deploy-file document must be a mapping (a Pipeline with apiVersion, kind, metadata and spec), got ${got}`, range: rootRange });
      }
    }
    out.push({ value, nodes: walker.nodes, diagnostics, range: docRange, broken, empty });
  }
  return out;
}

function brokenDocument(message: string, lines: number): RawDocument {
  const r: Range = { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } };
  return { value: null, nodes: new Map(), diagnostics: [{ code: 'KD001', severity: 'error', message, range: r }], range: r, broken: true, empty: false };
}

function firstAliasRange(node: Node, toRange: (s: number, e: number) => Range): Range | undefined {
  const stack: unknown[] = [node];
  while (stack.length) {
    const n = stack.pop();
    if (isAlias(n)) return n.range ? toRange(n.range[0], n.range[1]) : undefined;
    if (isMap(n) || isSeq(n)) {
      for (let i = n.items.length - 1; i >= 0; i--) {
        const it = n.items[i];
        if (isPair(it)) stack.push(it.value, it.key);
        else stack.push(it);
      }
    }
  }
  return undefined;
}

/** The yaml package's messages with a hint for the mistakes people actually make in deploy files. */
function syntaxMessage(code: string, message: string): string {
  const plain = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
  if (/alias/i.test(plain) || code === 'BAD_ALIAS') {
    return `${plain} (a value starting with \`*\` is an alias: quote cron schedules, e.g. "*/5 * * * *")`;
  }
  if (code === 'TAB_AS_INDENT') return `${plain} (indent with spaces, not tabs)`;
  return plain;
}
