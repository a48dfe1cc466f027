// The YAML layer keeps node ranges as offsets and makes line/character positions when a range is
// first read: those positions must be the ones a plain line count gives, and every recorded node
// must point at its own text.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineIndex, parseYamlDocuments } from '../../../src/deployfile/yamlDoc';
import type { Range } from '../../../src/deployfile/model';
import { BASE } from './helpers';

/** Position of `offset` by counting characters line by line (clamped into the text). */
function naivePosition(text: string, offset: number): { line: number; character: number } {
  const o = Math.max(0, Math.min(offset, text.length));
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < o; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: o - lineStart };
}

function slice(text: string, r: Range): string {
  const lines = text.split('\n');
  if (r.start.line === r.end.line) return lines[r.start.line].slice(r.start.character, r.end.character);
  return [lines[r.start.line].slice(r.start.character), ...lines.slice(r.start.line + 1, r.end.line), lines[r.end.line].slice(0, r.end.character)].join('\n');
}

describe('YAML layer ranges', () => {
  it('turns offsets into the positions a plain line count gives, clamped into the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: fc.constantFrom('a', ' ', '\n', '\r', 'é') }), fc.integer({ min: -5, max: 90 }), (text, offset) => {
        assert.deepEqual(new LineIndex(text).position(offset), naivePosition(text, offset));
      }),
      { numRuns: 500 },
    );
    // An end before its start is moved to the start.
    assert.deepEqual(new LineIndex('ab\ncd').range(4, 1), { start: { line: 1, character: 1 }, end: { line: 1, character: 1 } });
  });

  it('records every key and value at its own text, keys in source order', () => {
    const [doc] = parseYamlDocuments(BASE);
    assert.equal(slice(BASE, doc.nodes.get('/metadata/name')!.key!), 'name');
    assert.equal(slice(BASE, doc.nodes.get('/metadata/name')!.value), 'shop');
    assert.equal(doc.nodes.get('/spec/environments/0')!.key, undefined);
    assert.match(slice(BASE, doc.nodes.get('/spec/environments/0')!.value), /^name: staging\n/);
    assert.deepEqual(doc.nodes.get('')!.keys, ['apiVersion', 'kind', 'metadata', 'spec']);
    for (const [ptr, n] of doc.nodes) {
      const last = ptr.split('/').pop()!;
      if (n.key) assert.equal(slice(BASE, n.key), last, ptr);
      // A range is made once and then shared by whoever reads it.
      assert.equal(n.value, n.value, ptr);
    }
  });

  it('reports a duplicate key with the line of the first one, in small and in large mappings', () => {
    for (const size of [3, 40]) {
      const lines = Array.from({ length: size }, (_, i) => `k${i}: ${i}`);
      lines.push('k1: again');
      const [doc] = parseYamlDocuments(lines.join('\n') + '\n');
      assert.equal(doc.diagnostics.length, 1, `size ${size}`);
      assert.equal(doc.diagnostics[0].code, 'KD002');
      assert.match(doc.diagnostics[0].message, /key `k1` appears twice in this mapping \(first on line 2\)/);
      assert.deepEqual(doc.diagnostics[0].range, { start: { line: size, character: 0 }, end: { line: size, character: 2 } });
      assert.equal((doc.value as Record<string, unknown>).k1, 1);
      assert.equal(doc.nodes.get('')!.keys!.length, size);
    }
  });
});
