// Ranges, positions and instance paths. Paths are JSON pointers (as ajv reports them), so a schema
// error and a YAML node meet on the same string.
import type { Position, Range } from './model';

export type PathSegment = string | number;

export function pointer(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) out += '/' + escapeSegment(String(s));
  return out;
}

export function escapeSegment(s: string): string {
  return s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;
}

export function parsePointer(p: string): string[] {
  if (!p) return [];
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function parentPointer(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '' : p.slice(0, i);
}

export function lastSegment(p: string): string {
  const i = p.lastIndexOf('/');
  return p.slice(i + 1).replace(/~1/g, '/').replace(/~0/g, '~');
}

export function range(startLine: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line: startLine, character: startChar }, end: { line: endLine, character: endChar } };
}

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

export function contains(r: Range, p: Position): boolean {
  return comparePositions(r.start, p) <= 0 && comparePositions(p, r.end) <= 0;
}

function isPosition(v: unknown): v is Position {
  return typeof v === 'object' && v !== null && typeof (v as Position).line === 'number' && typeof (v as Position).character === 'number';
}

function isRange(v: unknown): v is Range {
  return typeof v === 'object' && v !== null && isPosition((v as Range).start) && isPosition((v as Range).end) && Object.keys(v).length === 2;
}

/**
 * Deep copy of a result with every Range moved down by `lines`. Used when a cached document moved
 * because lines were added or removed above it; results stay immutable for whoever holds them.
 */
export function shiftLines<T>(value: T, lines: number): T {
  if (lines === 0) return value;
  return shift(value, lines) as T;
}

function shift(v: unknown, lines: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shift(x, lines));
  if (typeof v !== 'object' || v === null) return v;
  if (isRange(v)) {
    return { start: { line: v.start.line + lines, character: v.start.character }, end: { line: v.end.line + lines, character: v.end.character } };
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = shift(x, lines);
  return out;
}
