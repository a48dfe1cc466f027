// Random and mutated inputs never throw, and every range lies inside the document.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseDeployFile } from '../../../src/deployfile/parse';
import type { ParseResult, Range } from '../../../src/deployfile/model';
import { BASE } from './helpers';

function assertRangesInside(text: string, r: ParseResult): void {
  const lines = text.split('\n');
  const inside = (rg: Range, what: string) => {
    for (const p of [rg.start, rg.end]) {
      assert.ok(p.line >= 0 && p.line < lines.length, `${what}: line ${p.line} outside 0..${lines.length - 1}`);
      assert.ok(p.character >= 0 && p.character <= lines[p.line].length, `${what}: character ${p.character} outside line ${p.line} (${lines[p.line].length})`);
    }
    assert.ok(rg.start.line < rg.end.line || (rg.start.line === rg.end.line && rg.start.character <= rg.end.character), `${what}: start after end`);
  };
  for (const d of r.diagnostics) {
    inside(d.range, `${d.code} ${d.message}`);
    for (const e of d.fix?.edits ?? []) inside(e.range, `fix of ${d.code}`);
  }
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.start && o.end && typeof (o.start as { line?: unknown }).line === 'number') inside(o as unknown as Range, where);
      else for (const [k, x] of Object.entries(o)) walk(x, `${where}.${k}`);
    }
  };
  walk(r.pipelines, 'pipelines');
}

const examples = fs.readdirSync(path.resolve(__dirname, '../../../examples')).filter((f) => f.endsWith('.deploy.yaml'))
  .map((f) => fs.readFileSync(path.resolve(__dirname, '../../../examples', f), 'utf8'));
const corpus = [BASE, ...examples];

/** Mutations that produce near-miss deploy files: the interesting inputs for an editor. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.nat(40) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(':', '- ', '\n', '  ', '{', '[', '*a', '&a ', '"', "'", '---\n', '\t', '#', '|', '>', '!!str ', '<<: *a\n', '%')) }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(text: string, m: fc.Arbitrary<unknown> extends never ? never : { kind: string; at?: number; len?: number; text?: string; a?: number; b?: number }): string {
  if (m.kind === 'delete') {
    const at = m.at! % (text.length + 1);
    return text.slice(0, at) + text.slice(at + m.len!);
  }
  if (m.kind === 'insert') {
    const at = m.at! % (text.length + 1);
    return text.slice(0, at) + m.text + text.slice(at);
  }
  const ls = text.split('\n');
  const a = m.a! % ls.length;
  const b = m.b! % ls.length;
  [ls[a], ls[b]] = [ls[b], ls[a]];
  return ls.join('\n');
}

describe('deploy file parser properties', () => {
  it('never throws on arbitrary text; ranges stay inside the document', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: fc.constantFrom('a', 'b', ':', ' ', '\n', '-', '[', ']', '{', '}', ',', '*', '&', '"', "'", '#', '|', '>', '!', '%', '@', '`', '\t', '1', 'é', '\r') }), (text) => {
        assertRangesInside(text, parseDeployFile(text, ''));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated valid files; ranges stay inside the document', () => {
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 5 }), (i, ms) => {
        let text = corpus[i];
        for (const m of ms) text = mutate(text, m as never);
        assertRangesInside(text, parseDeployFile(text, ''));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on structurally random YAML values', () => {
    const { stringify } = require('yaml') as typeof import('yaml');
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.constantFrom('apiVersion', 'kind', 'metadata', 'name', 'spec', 'image', 'environments', 'strategy', 'type', 'stages', 'weights', 'canary', 'tests', 'after', 'x'), tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const text = stringify({ apiVersion: 'kube-delivery.dev/v1alpha1', kind: 'Pipeline', metadata: { name: 'x' }, spec: v });
        assertRangesInside(text, parseDeployFile(text, ''));
      }),
      { numRuns: 200 },
    );
  });
});
