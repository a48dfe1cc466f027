// Where to point a diagnostic: the key or value at fault, or, when the node does not exist (a missing
// key) or came from an alias, the nearest ancestor that does — never line 1 by default.
import type { Range } from './model';
import type { NodeRanges, RawDocument } from './yamlDoc';
import { escapeSegment, parentPointer } from './ranges';

function nearest(doc: RawDocument, pointer: string): { ranges: NodeRanges; pointer: string } | undefined {
  for (let p = pointer; ; p = parentPointer(p)) {
    const r = doc.nodes.get(p);
    if (r) return { ranges: r, pointer: p };
    if (p === '') return undefined;
  }
}

function fallback(doc: RawDocument): Range {
  return doc.nodes.get('')?.value ?? doc.range;
}

/** The key of a mapping entry (falls back to the value for list items). */
export function keyRangeAt(doc: RawDocument, pointer: string): Range {
  const n = nearest(doc, pointer);
  if (!n) return fallback(doc);
  if (n.pointer !== pointer) return headRange(doc, n.pointer, n.ranges);
  return n.ranges.key ?? headRange(doc, pointer, n.ranges);
}

/** The value itself for scalars; for collections the key that introduces them (a short, visible range). */
export function valueRangeAt(doc: RawDocument, pointer: string): Range {
  const n = nearest(doc, pointer);
  if (!n) return fallback(doc);
  if (n.pointer !== pointer) return headRange(doc, n.pointer, n.ranges);
  const multiline = n.ranges.value.start.line !== n.ranges.value.end.line;
  if (multiline) return headRange(doc, pointer, n.ranges);
  return n.ranges.value;
}

/** The place that stands for a whole mapping/list: its key, or its first key/item. */
export function anchorRange(doc: RawDocument, pointer: string): Range {
  const n = nearest(doc, pointer);
  if (!n) return fallback(doc);
  return headRange(doc, n.pointer, n.ranges);
}

function headRange(doc: RawDocument, pointer: string, ranges: NodeRanges): Range {
  if (ranges.key) return ranges.key;
  const firstKey = ranges.keys?.[0];
  if (firstKey !== undefined) {
    const k = doc.nodes.get(`${pointer}/${escapeSegment(firstKey)}`)?.key;
    if (k) return k;
  }
  const firstItem = doc.nodes.get(`${pointer}/0`);
  if (firstItem) return headRange(doc, `${pointer}/0`, firstItem);
  const v = ranges.value;
  if (v.start.line === v.end.line) return v;
  return { start: v.start, end: { line: v.start.line, character: v.start.character + 1 } };
}
