// Shared fixtures for the deploy-file tests: a valid base pipeline, text mutations, and ranges found
// by searching the text (so expected ranges are computed from the input, not hard-coded numbers).
import assert from 'node:assert/strict';
import type { Diagnostic, Range } from '../../../src/deployfile/model';
import { parseDeployFile } from '../../../src/deployfile/parse';

export const BASE = `apiVersion: kube-delivery.dev/v1alpha1
kind: Pipeline
metadata:
  name: shop
spec:
  image: registry.example.com/shop:1.2.0
  environments:
    - name: staging
      context: sandbox
      namespace: shop-staging
    - name: production
      context: prod
      namespace: shop
      protected: true
      after: staging
  strategy:
    type: canary
    baseline: true
    stages:
      - weights: { canary: 10, baseline: 10, current: 80 }
        mode: auto
        analysis: { successRate: 99, schedule: "*/1 * * * *", checks: 2 }
        tests: [smoke]
      - weights: { canary: 50, baseline: 10, current: 40 }
        mode: manual
  tests:
    smoke: { image: "registry.example.com/smoke:1.0", command: [sh, -c, "true"] }
`;

/** Replaces exactly one occurrence of `from` (fails loudly when the fixture drifted). */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  assert.ok(i !== -1, `fixture contains ${JSON.stringify(from)}`);
  assert.equal(text.indexOf(from, i + 1), -1, `fixture contains ${JSON.stringify(from)} once`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** Range of the `occurrence`-th `needle` in `text` (optionally searching after the end of the first `after`). */
export function rangeOf(text: string, needle: string, opts: { after?: string; occurrence?: number } = {}): Range {
  let from = 0;
  if (opts.after) {
    from = text.indexOf(opts.after);
    assert.ok(from !== -1, `text contains ${JSON.stringify(opts.after)}`);
    from += opts.after.length;
  }
  let at = text.indexOf(needle, from);
  for (let k = 0; k < (opts.occurrence ?? 0) && at !== -1; k++) at = text.indexOf(needle, at + 1);
  assert.ok(at !== -1, `text contains ${JSON.stringify(needle)}`);
  return { start: pos(text, at), end: pos(text, at + needle.length) };
}

function pos(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export function check(text: string): Diagnostic[] {
  return parseDeployFile(text, '/work/test/shop.deploy.yaml').diagnostics;
}

/** Asserts the only diagnostics are `code` (once unless `count`), at `range`; returns it. */
export function expectOne(text: string, code: string, range: Range, opts: { count?: number; others?: string[] } = {}): Diagnostic {
  const all = check(text);
  const mine = all.filter((d) => d.code === code);
  const others = all.filter((d) => d.code !== code && !(opts.others ?? []).includes(d.code));
  assert.deepEqual(others.map((d) => `${d.code} ${d.message}`), [], 'no other diagnostics');
  assert.equal(mine.length, opts.count ?? 1, `${code} reported ${opts.count ?? 1} time(s): ${JSON.stringify(all.map((d) => d.code))}`);
  assert.deepEqual(mine[0].range, range, `${code} range (${mine[0].message})`);
  return mine[0];
}

export function codes(text: string): string[] {
  return check(text).map((d) => d.code);
}

/** Applies a diagnostic's fix edits to the text (edits on single lines, as our fixes are). */
export function applyFix(text: string, d: Diagnostic): string {
  assert.ok(d.fix, `${d.code} has a fix`);
  const lines = text.split('\n');
  const edits = [...d.fix.edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  for (const e of edits) {
    assert.equal(e.range.start.line, e.range.end.line);
    const l = lines[e.range.start.line];
    lines[e.range.start.line] = l.slice(0, e.range.start.character) + e.newText + l.slice(e.range.end.character);
  }
  return lines.join('\n');
}
