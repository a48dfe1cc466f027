// The deploy-file parser uses the yaml package's browser build of its Parser (no per-token
// process.env read; see src/deployfile/cstParser.ts). It must be that build, of the same installed
// package, and it must produce exactly the CST the package's Node build produces.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Parser as NodeParser } from 'yaml';
import { Parser, parserBuild } from '../../../src/deployfile/cstParser';
import { BASE } from './helpers';

const root = path.resolve(__dirname, '../../..');

function tokens(P: typeof NodeParser, text: string): unknown[] {
  return Array.from(new P().parse(text));
}

describe('yaml CST parser build', () => {
  it('is the browser build of the installed yaml package', () => {
    assert.equal(parserBuild, 'browser');
    assert.notEqual(Parser, NodeParser);
    assert.equal(path.dirname(require.resolve('yaml/package.json')), path.join(root, 'node_modules', 'yaml'));
  });

  it('produces the same CST as the Node build on every example and fixture', () => {
    const dirs = ['examples', 'bench/fixtures/deployfile'].map((d) => path.join(root, d));
    const texts = [BASE];
    for (const d of dirs) for (const f of fs.readdirSync(d)) if (/\.ya?ml$/.test(f)) texts.push(fs.readFileSync(path.join(d, f), 'utf8'));
    assert.ok(texts.length > 3);
    for (const t of texts) assert.deepEqual(tokens(Parser, t), tokens(NodeParser, t));
  });

  it('produces the same CST as the Node build on random YAML-ish text', () => {
    const unit = fc.constantFrom('a', 'b', ':', ' ', '  ', '\n', '- ', '[', ']', '{', '}', ',', '*a', '&a ', '"', "'", '#', '|', '>', '!!str ', '%', '? ', '---\n', '...\n', '\t', '1', 'é', '\r', '\\');
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit }), (text) => {
        assert.deepEqual(tokens(Parser, text), tokens(NodeParser, text));
      }),
      { numRuns: 300 },
    );
  });
});
