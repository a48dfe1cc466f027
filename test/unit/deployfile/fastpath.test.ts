// The fast YAML path must give exactly what the `yaml` package path gives (values, key and value
// ranges, keys order, no diagnostics) whenever it accepts a text, and must accept the files deploy
// files usually are (the examples), or it would be pointless.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseFast } from '../../../src/deployfile/fastYaml';
import { parseYamlDocumentsWithYaml } from '../../../src/deployfile/yamlDoc';
import { BASE } from './helpers';
import { bigDeployFile } from './bigfile';

function assertSame(text: string): boolean {
  const fast = parseFast(text);
  if (!fast) return false;
  const slow = parseYamlDocumentsWithYaml(text).filter((d) => !d.empty);
  assert.equal(slow.length, 1, `one document: ${JSON.stringify(text)}`);
  assert.deepEqual(slow[0].diagnostics, [], `the yaml path finds no problem in ${JSON.stringify(text)}`);
  assert.deepEqual(fast[0].value, slow[0].value, `values of ${JSON.stringify(text)}`);
  assert.deepEqual(new Map([...fast[0].nodes].sort()), new Map([...slow[0].nodes].sort()), `ranges of ${JSON.stringify(text)}`);
  assert.equal(fast[0].broken, false);
  return true;
}

const examplesDir = path.resolve(__dirname, '../../../examples');
const corpus = [
  BASE,
  ...fs.readdirSync(examplesDir).filter((f) => f.endsWith('.deploy.yaml')).map((f) => fs.readFileSync(path.join(examplesDir, f), 'utf8')),
  fs.readFileSync(path.resolve(__dirname, '../../../bench/fixtures/deployfile/typical.deploy.yaml'), 'utf8'),
];

describe('fast YAML path', () => {
  it('takes the examples, the fixtures and the benchmark file, with the same result as `yaml`', () => {
    for (const text of corpus) assert.ok(assertSame(text), text.slice(0, 200));
  });

  it('matches `yaml` on hand-picked shapes', () => {
    const shapes = [
      'a: 1\n', 'a: 1', 'a:\n  b: 2\n', 'a:\n- 1\n- 2\nb: x\n', 'a:\n  - x: 1\n    y: 2\n  - z\n',
      'a: [1, 2.5, -3, +4, .5, 1., 007, true, False, ~, null, "x y", \'it\'\'s\']\n', 'a: {b: 1, c: [x, {d: e}]}  # c\n',
      'a: x # comment\n# only comment\n\nb: "q" # c\n', '---\na: 1\n', '--- # doc\na: 1\n', 'a: http://x.y/z:1\n',
      'a: { image: curlimages/curl:8.10.1, command: [curl, -fsS, "http://x/healthz"] }\n', 'a: -c\nb: 1e3\nc: 0.5e-2\n',
      'a: b#c\n', 'key.with/slash_: v\n', 'a:\n    - 1\n    - 2\n', 'a: "*/1 * * * *"\n', 'a:   spaced   \n',
    ];
    for (const s of shapes) assert.ok(assertSame(s), `fast path takes ${JSON.stringify(s)}`);
  });

  it('gives up on what it does not handle', () => {
    for (const s of ['a: &x 1\nb: *x\n', 'a: |\n  x\n', 'a: !!str 1\n', 'a:\n', 'a: 1\na: 2\n', 'a: "x\\ny"\n', 'a: [1,\n  2]\n', 'a: b\n  c\n', '- 1\n', 'a:\tb\n', 'a: 1\r\nb: 2\r\n', 'a: 0x1F\n', 'a: .inf\n', '%YAML 1.2\n---\na: 1\n', 'a: b: c\n', '? a\n: b\n', 'a: [1, ]\n', 'a: {}\n', 'true: 1\n', '"a": 1\n']) {
      assert.equal(parseFast(s), undefined, JSON.stringify(s));
    }
  });

  it('takes every document of a large generated file', () => {
    const big = bigDeployFile(1000);
    for (const doc of big.split('---\n')) assert.ok(assertSame(doc));
  });

  it('agrees with `yaml` on mutated deploy files whenever it accepts them (property)', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.nat(12) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', ': ', '- ', '\n', '  ', '{', '}', '[', ']', ',', '"', "'", '#', ' #', '*', '&', '!', '|', '~', '0', '.5', '-', 'true', 'null', '\t', ':x')) }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        let text = corpus[i];
        for (const m of ms) {
          const at = m.at % (text.length + 1);
          text = m.kind === 'delete' ? text.slice(0, at) + text.slice(at + m.len) : text.slice(0, at) + m.text + text.slice(at);
        }
        const fast = parseFast(text);
        if (!fast) return;
        accepted++;
        assertSame(text);
      }),
      { numRuns: 600 },
    );
    assert.ok(accepted > 100, `the fast path accepted ${accepted} of 600 mutated files`);
  });
});
