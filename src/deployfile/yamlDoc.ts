// YAML text → plain values plus the source range of every key and value, keyed by JSON pointer.
// We walk the `yaml` AST ourselves instead of calling toJS() so that (1) every value keeps its range,
// (2) duplicate keys are reported at the second key with a pointer to the first, and (3) alias
// expansion is bounded by a node budget: a "billion laughs" document costs a few thousand steps and
// yields one diagnostic instead of hanging the editor.
import { Composer, isAlias, isMap, isScalar, isSeq, isPair, type Document, type Node, type Alias } from 'yaml';
import type { Diagnostic, Position, Range } from './model';
import { escapeSegment } from './ranges';
import { Parser } from './cstParser';

export interface NodeRanges {
  /** Range of the key, for mapping values. */
  readonly key?: Range;
  /** Range of the value (for a collection: the whole block). */
  readonly value: Range;
  /** For mappings: the keys in source order (completion and outline use it). */
  keys?: string[];
}

/**
 * Offset → line/character for one chunk of text. A document has a few hundred nodes but a check
 * reads the ranges of a few dozen, so ranges are kept as offsets and converted when first read.
 */
export class LineIndex {
  private readonly starts: number[] = [0];
  private readonly length: number;

  constructor(text: string) {
    this.length = text.length;
    // Our own line index: the yaml LineCounter misses newlines inside some error tokens.
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.length));
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - starts[lo] };
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }
}

/** NodeRanges kept as offsets; each Range is made on first read and then shared. */
class OffsetRanges implements NodeRanges {
  keys?: string[];
  private keyRange?: Range;
  private valueRange?: Range;

  constructor(
    private readonly lines: LineIndex,
    /** -1 when the node has no key (list items, the root). */
    readonly keyStart: number,
    private readonly keyEnd: number,
    private readonly valueStart: number,
    private readonly valueEnd: number,
  ) {}

  get key(): Range | undefined {
    if (this.keyStart < 0) return undefined;
    return (this.keyRange ??= this.lines.range(this.keyStart, this.keyEnd));
  }

  get value(): Range {
    return (this.valueRange ??= this.lines.range(this.valueStart, this.valueEnd));
  }
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

// Duplicate keys are reported by the walker (KD002/KD112, with the first key's line).
const COMPOSE_OPTIONS = { uniqueKeys: false, keepSourceTokens: false } as const;

/** Upper bound on nodes produced by expanding aliases in one document. */
export const ALIAS_NODE_BUDGET = 10_000;
const MAX_DEPTH = 200;

/** Maps with more keys than this look duplicates up in a Set rather than scanning the key list. */
const SMALL_MAP = 16;

class Walker {
  aliasBudget = ALIAS_NODE_BUDGET;
  aliasExhausted = false;
  tooDeep = false;
  readonly nodes = new Map<string, NodeRanges>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineIndex,
    private readonly testsPointer: string,
  ) {}

  /**
   * Converts `node` to a plain value, recording ranges under `path`; [hereStart, hereEnd) is the
   * node's place (or its parent's when the node has no range). `record` is the entry the parent
   * already made for this node (a map entry or list item); only the root has none. Inside an alias
   * expansion (`viaAlias`), nothing is recorded: errors inside point at the alias itself.
   */
  walk(node: Node | null | undefined, path: string, hereStart: number, hereEnd: number, depth: number, viaAlias: boolean, record?: OffsetRanges): unknown {
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
    if (isScalar(node)) return node.value ?? null;
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      // Keys in source order, first occurrence only; `seen` takes over from scanning `keys` in big maps.
      const keys: string[] = [];
      let seen: Set<string> | undefined;
      if (!viaAlias) (record ?? this.record(path, -1, 0, hereStart, hereEnd)).keys = keys;
      let merges: Node[] | undefined;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const kr = keyNode?.range;
        const keyStart = kr ? kr[0] : hereStart;
        const keyEnd = kr ? kr[1] : hereEnd;
        let key: string;
        if (keyNode == null) key = '';
        else if (isScalar(keyNode)) key = keyNode.value == null ? '' : String(keyNode.value);
        else key = String(keyNode);
        if (key === '<<' && !viaAlias && isScalar(keyNode) && keyNode.source === '<<') {
          if (pair.value) (merges ??= []).push(pair.value as Node);
          continue;
        }
        const valueNode = pair.value as Node | null;
        const childPath = `${path}/${escapeSegment(key)}`;
        if (seen ? seen.has(key) : keys.includes(key)) {
          if (!viaAlias) this.duplicate(key, path, this.lines.range(keyStart, keyEnd), (this.nodes.get(childPath) as OffsetRanges).keyStart);
          continue;
        }
        keys.push(key);
        if (seen) seen.add(key);
        else if (keys.length > SMALL_MAP) seen = new Set(keys);
        const vr = valueNode?.range;
        // A key without a value: the value sits at the end of the key.
        const valueStart = vr ? vr[0] : Math.max(keyStart, keyEnd);
        const valueEnd = vr ? vr[1] : valueStart;
        const child = viaAlias ? undefined : this.record(childPath, keyStart, keyEnd, valueStart, valueEnd);
        out[key] = this.walk(valueNode, childPath, valueStart, valueEnd, depth + 1, viaAlias, child);
      }
      // `<<: *defaults` merges keys the map does not set itself (YAML 1.1 merge keys, common in k8s files).
      for (const m of merges ?? []) {
        const sources = isSeq(m) ? (m.items as Node[]) : [m];
        for (const s of sources) {
          const r = s?.range;
          const v = this.walk(s, path, r ? r[0] : hereStart, r ? r[1] : hereEnd, depth + 1, true);
          if (v && typeof v === 'object' && !Array.isArray(v)) {
            for (const [k, x] of Object.entries(v)) if (!(k in out)) out[k] = x;
          }
        }
      }
      return out;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      if (!viaAlias && !record) this.record(path, -1, 0, hereStart, hereEnd);
      const items = node.items as (Node | null)[];
      for (let i = 0; i < items.length; i++) {
        const itemNode = items[i];
        const childPath = `${path}/${i}`;
        const r = itemNode?.range;
        const start = r ? r[0] : hereStart;
        const end = r ? r[1] : hereEnd;
        const child = viaAlias ? undefined : this.record(childPath, -1, 0, start, end);
        out.push(this.walk(itemNode, childPath, start, end, depth + 1, viaAlias, child));
      }
      return out;
    }
    if (isAlias(node)) {
      const target = (node as Alias).resolve(this.doc);
      if (!target) return null;
      if (this.aliasExhausted) return null;
      return this.walk(target as Node, path, hereStart, hereEnd, depth + 1, true);
    }
    return null;
  }

  /** Paths are unique (keys are unique per map, escaped segments are unambiguous): each is recorded once. */
  private record(path: string, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): OffsetRanges {
    const r = new OffsetRanges(this.lines, keyStart, keyEnd, valueStart, valueEnd);
    this.nodes.set(path, r);
    return r;
  }

  private duplicate(key: string, mapPath: string, at: Range, firstKeyStart: number): void {
    const firstLine = this.lines.position(firstKeyStart).line + 1;
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
    // parseAllDocuments() without prettyErrors, with our faster Parser (see cstParser.ts).
    docs = Array.from(new Composer(COMPOSE_OPTIONS).compose(new Parser().parse(text))) as Document.Parsed[];
  } catch (err) {
    // The parser has no known throwing paths left, but a deploy file must never crash the editor.
    const lines = countLines(text, 0, text.length);
    return [brokenDocument(`the YAML parser failed: ${(err as Error).message}`, lines)];
  }
  const lines = new LineIndex(text);
  const toRange = (start: number, end: number): Range => lines.range(start, end);
  const out: RawDocument[] = [];
  let prevEnd = 0;
  for (const doc of docs) {
    const [, , docEnd] = doc.range;
    const docStart = prevEnd;
    const docRange = toRange(docStart, docEnd);
    prevEnd = docEnd;
    const walker = new Walker(doc, lines, '/spec/tests');
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
    const rootStart = contents?.range ? contents.range[0] : docStart;
    const rootEnd = contents?.range ? contents.range[1] : docEnd;
    const rootRange = toRange(rootStart, rootEnd);
    let value: unknown = null;
    if (!empty) {
      value = walker.walk(contents, '', rootStart, rootEnd, 0, false);
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
