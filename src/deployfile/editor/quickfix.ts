// Quick fixes: diagnostics carry their fix (corrected weights, the suggested key, a tag placeholder);
// this picks the ones that apply at a range.
import type { Diagnostic, Range } from '../model';

export interface QuickFix {
  title: string;
  diagnostic: Diagnostic;
  edits: { range: Range; newText: string }[];
  snippet: boolean;
  preferred: boolean;
}

function overlaps(a: Range, b: Range): boolean {
  const le = (x: Range['start'], y: Range['start']) => x.line < y.line || (x.line === y.line && x.character <= y.character);
  return le(a.start, b.end) && le(b.start, a.end);
}

export function quickFixes(diagnostics: readonly Diagnostic[], range: Range): QuickFix[] {
  return diagnostics
    .filter((d) => d.fix && overlaps(d.range, range))
    .map((d) => ({ title: d.fix!.title, diagnostic: d, edits: d.fix!.edits, snippet: Boolean(d.fix!.snippet), preferred: d.severity === 'error' }));
}
