// Finding the YAML document under a position, and reading values and ranges in file coordinates.
import type { Position, Range } from '../model';
import type { DeployFileValidator, DocumentView } from '../parse';
import { pointer } from '../ranges';

export function documentAt(validator: DeployFileValidator, text: string, position: Position): DocumentView | undefined {
  const views = validator.documents(text);
  let best: DocumentView | undefined;
  for (const v of views) {
    const start = v.lineOffset + v.raw.range.start.line;
    if (start <= position.line) best = v;
  }
  return best;
}

export function valueAtPath(root: unknown, segments: readonly (string | number)[]): unknown {
  let v = root;
  for (const s of segments) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[String(s)];
  }
  return v;
}

export function toFile(view: DocumentView, r: Range): Range {
  return {
    start: { line: r.start.line + view.lineOffset, character: r.start.character },
    end: { line: r.end.line + view.lineOffset, character: r.end.character },
  };
}

export function toLocal(view: DocumentView, p: Position): Position {
  return { line: p.line - view.lineOffset, character: p.character };
}

/** Key/value ranges of the node at `segments`, in file coordinates. */
export function nodeRanges(view: DocumentView, segments: readonly (string | number)[]): { key?: Range; value: Range } | undefined {
  const n = view.raw.nodes.get(pointer(segments));
  if (!n) return undefined;
  return { key: n.key && toFile(view, n.key), value: toFile(view, n.value) };
}

export function environmentNames(root: unknown): string[] {
  const envs = valueAtPath(root, ['spec', 'environments']);
  if (!Array.isArray(envs)) return [];
  return envs.map((e) => (e && typeof e === 'object' ? (e as Record<string, unknown>).name : undefined)).filter((n): n is string => typeof n === 'string');
}

export function testNames(root: unknown): string[] {
  const tests = valueAtPath(root, ['spec', 'tests']);
  return tests && typeof tests === 'object' && !Array.isArray(tests) ? Object.keys(tests) : [];
}
