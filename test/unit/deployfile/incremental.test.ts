// The per-document cache: after an edit only the edited document is parsed again, and the result is
// identical to validating the edited text from scratch.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeployFileValidator, parseDeployFile, splitChunks } from '../../../src/deployfile/parse';
import { bigDeployFile } from './bigfile';

describe('incremental validation', () => {
  const big = bigDeployFile(5000);

  it('splits at document markers only', () => {
    const chunks = splitChunks('a: 1\n---\nb: 2\n--- # c\nc: 3\n----\nkey: "---"\n');
    assert.deepEqual(chunks.map((c) => c.line), [0, 1, 3]);
    assert.equal(chunks.map((c) => c.text).join(''), 'a: 1\n---\nb: 2\n--- # c\nc: 3\n----\nkey: "---"\n');
  });

  it('re-parses only the edited document of a 5,000-line file', () => {
    const v = new DeployFileValidator('/x/big.deploy.yaml');
    const first = v.validate(big);
    assert.ok(first.pipelines.length > 50);
    assert.equal(v.lastParsedChunks, first.pipelines.length);
    const edited = big.replace('name: shop-17\n', 'name: shop-17\n  description: edited\n');
    v.validate(edited);
    assert.equal(v.lastParsedChunks, 1);
  });

  it('gives results identical to a fresh validation after edits that move, break and fix documents', () => {
    const v = new DeployFileValidator('/x/big.deploy.yaml');
    v.validate(big);
    const lines = big.split('\n');
    const edits: ((ls: string[]) => string[])[] = [
      (ls) => [...ls.slice(0, 30), '  # a comment line added', ...ls.slice(30)], // shifts every later document
      (ls) => ls.map((l, i) => (i === 200 ? l.replace('mode: manual', 'mode: never') : l)), // schema error
      (ls) => ls.map((l, i) => (i === 400 ? l.replace('name: shop-', 'name: shop-1') : l)), // may duplicate a name
      (ls) => ls.filter((_, i) => i !== 600), // deletes a line (often breaks YAML)
      (ls) => ls.map((l, i) => (i === 1000 ? `${l} {` : l)),
      (ls) => [...ls.slice(0, 2000), '---', ...ls.slice(2000)], // splits a document in two
    ];
    let current = lines;
    for (const e of edits) {
      current = e(current);
      const text = current.join('\n');
      assert.deepEqual(v.validate(text), parseDeployFile(text, '/x/big.deploy.yaml'));
    }
    // And back to the original text.
    assert.deepEqual(v.validate(big), parseDeployFile(big, '/x/big.deploy.yaml'));
  });

  it('stays identical to a fresh validation for random line edits (property)', () => {
    const small = bigDeployFile(300);
    const lines = small.split('\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom('', '---', '  x: 1', '# c', 'mode: auto', '    - name: z')), { minLength: 1, maxLength: 6 }), (ops) => {
        const v = new DeployFileValidator('');
        v.validate(small);
        let ls = lines;
        for (const [at, line] of ops) {
          ls = [...ls.slice(0, at), line, ...ls.slice(at + 1)];
          const text = ls.join('\n');
          assert.deepEqual(v.validate(text), parseDeployFile(text, ''));
        }
      }),
      { numRuns: 40 },
    );
  });
});
