// README.md (section Deploy files) stays in step with the code: every diagnostic code with its severity, and every
// key of the schema, is documented.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CODES } from '../../../src/deployfile/codes';
import { branchKeys, schemaAt } from '../../../src/deployfile/schema';

const docs = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');

describe('README.md (section Deploy files)', () => {
  it('lists every diagnostic code with its severity, and no unknown code', () => {
    const rows = new Map([...docs.matchAll(/^\| (KD\d{3}) \| (error|warning|info) \|/gm)].map((m) => [m[1], m[2]]));
    for (const [code, info] of Object.entries(CODES)) assert.equal(rows.get(code), info.severity, code);
    assert.deepEqual([...rows.keys()].filter((c) => !(c in CODES)), []);
  });

  it('documents every key of the schema', () => {
    const missing: string[] = [];
    const visit = (segments: (string | number)[], value: unknown, depth = 0) => {
      const s = schemaAt(segments, value);
      if (!s || depth > 6) return;
      for (const k of branchKeys(s)) {
        // As a path segment of a documented key: `k`, `a.k`, `k.b`, `a.k.b`.
        if (!new RegExp(`[\`.]${k}[\`.[]`).test(docs)) missing.push([...segments, k].join('.'));
        const c = schemaAt([...segments, k], value);
        if (c?.properties || c?.oneOf) visit([...segments, k], value, depth + 1);
        if (c?.items) visit([...segments, k, 0], value, depth + 1);
      }
    };
    for (const type of ['simple', 'canary', 'blueGreen']) visit([], { spec: { strategy: { type } } });
    visit(['spec', 'tests', 'x'], {});
    assert.deepEqual(missing, []);
  });
});
