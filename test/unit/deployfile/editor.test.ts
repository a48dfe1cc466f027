// Editor helpers (pure): completion, hover, outline and quick fixes, as the VS Code adapters use them.
import assert from 'node:assert/strict';
import { DeployFileValidator, parseDeployFile } from '../../../src/deployfile/parse';
import { completions } from '../../../src/deployfile/editor/completion';
import { hover } from '../../../src/deployfile/editor/hover';
import { outline } from '../../../src/deployfile/editor/outline';
import { quickFixes } from '../../../src/deployfile/editor/quickfix';
import { cursorContext } from '../../../src/deployfile/editor/cursor';
import { BASE, applyFix, edit, rangeOf } from './helpers';

/** Text with the `|` marker removed, and the marker's position. */
function at(textWithCursor: string) {
  const i = textWithCursor.indexOf('|');
  assert.ok(i !== -1, 'cursor marker');
  const text = textWithCursor.slice(0, i) + textWithCursor.slice(i + 1);
  const before = text.slice(0, i);
  return { text, position: { line: before.split('\n').length - 1, character: i - before.lastIndexOf('\n') - 1 } };
}

function labels(textWithCursor: string): string[] {
  const { text, position } = at(textWithCursor);
  return completions(new DeployFileValidator(''), text, position).map((c) => c.label);
}

describe('deploy file editor helpers', () => {
  describe('cursor context', () => {
    it('finds the mapping path of a key typed in a list item', () => {
      const { text, position } = at(edit(BASE, '        mode: manual\n', '        mode: manual\n        pa|\n'));
      const ctx = cursorContext(text, position);
      assert.deepEqual(ctx.path, ['spec', 'strategy', 'stages', 1]);
      assert.equal(ctx.kind, 'key');
      assert.equal(ctx.prefix, 'pa');
    });
    it('finds the key of a value inside a flow mapping', () => {
      const { text, position } = at(edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 50, baseline: |'));
      const ctx = cursorContext(text, position);
      assert.deepEqual(ctx.path, ['spec', 'strategy', 'stages', 1, 'weights', 'baseline']);
      assert.equal(ctx.kind, 'value');
    });
  });

  describe('completion', () => {
    it('offers the keys a stage still lacks, with snippets', () => {
      const { text, position } = at(edit(BASE, '        mode: manual\n', '        mode: manual\n        |\n'));
      const items = completions(new DeployFileValidator(''), text, position);
      assert.deepEqual(items.map((i) => i.label).sort(), ['analysis', 'pause', 'tests']);
      const analysis = items.find((i) => i.label === 'analysis')!;
      assert.equal(analysis.snippet, true);
      assert.match(analysis.insertText, /^analysis:\n {2}successRate: \$\{1:99\}/);
      assert.match(analysis.documentation ?? '', /Metric checks that gate this stage/);
    });
    it('offers enum values from the schema: mode, router', () => {
      assert.deepEqual(labels(edit(BASE, 'mode: manual', 'mode: |')), ['auto', 'manual']);
      assert.deepEqual(labels(edit(BASE, '    baseline: true\n', '    baseline: true\n    traffic:\n      router: |\n')), ['replicas', 'istio', 'gatewayApi', 'nginx']);
    });
    it('offers every strategy type, even when the current one is wrong', () => {
      assert.deepEqual(labels(edit(BASE, 'type: canary', 'type: can|x')), ['simple', 'canary', 'blueGreen']);
    });
    it('offers the other environments for `after`', () => {
      assert.deepEqual(labels(edit(BASE, 'after: staging', 'after: |')), ['staging']);
    });
    it('offers test names in block and flow `tests:` lists', () => {
      const withE2e = edit(BASE, '  tests:\n', '  tests:\n    e2e: { image: "registry.example.com/e2e:1.0" }\n');
      assert.deepEqual(labels(edit(withE2e, 'tests: [smoke]', 'tests: [smoke, |]')), ['e2e']);
      assert.deepEqual(labels(edit(withE2e, '        tests: [smoke]\n', '        tests:\n          - |\n')), ['e2e', 'smoke']);
    });
    it('offers the keys of a new environment list item', () => {
      assert.deepEqual(labels(edit(BASE, '    - name: production', '    - |\n    - name: production')), ['name', 'context', 'namespace', 'protected', 'after']);
    });
    it('offers a whole Pipeline in an empty file', () => {
      const items = completions(new DeployFileValidator(''), '', { line: 0, character: 0 });
      assert.equal(items[0].label, 'Pipeline');
      const text = items[0].insertText.replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, '$1').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, 'my-app');
      assert.deepEqual(parseDeployFile(text, '').diagnostics, []);
    });
    it('replaces the partial word under the cursor', () => {
      const { text, position } = at(edit(BASE, 'mode: manual', 'mode: ma|n'));
      const [first] = completions(new DeployFileValidator(''), text, position);
      assert.deepEqual(first.replace, rangeOf(text, 'man', { after: 'mode: ' }));
    });
  });

  describe('hover', () => {
    it('shows the description of a key and its default', () => {
      const { text, position } = at(edit(BASE, '        mode: auto', '        mo|de: auto'));
      const h = hover(new DeployFileValidator(''), text, position)!;
      assert.match(h.markdown, /\*\*`mode`\*\*/);
      assert.match(h.markdown, /advance when tests and analysis pass/);
      assert.match(h.markdown, /Default: `manual`/);
      assert.deepEqual(h.range, rangeOf(text, 'mode'));
    });
    it('says a cron schedule in words', () => {
      const { text, position } = at(edit(BASE, '"*/1 * * * *"', '"*/5 |* * * *"'));
      assert.match(hover(new DeployFileValidator(''), text, position)!.markdown, /Runs every 5 minutes\./);
    });
    it('describes what a reference points at', () => {
      const a = at(edit(BASE, 'after: staging', 'after: stag|ing'));
      assert.match(hover(new DeployFileValidator(''), a.text, a.position)!.markdown, /context `sandbox`, namespace `shop-staging`/);
      const b = at(edit(BASE, 'tests: [smoke]', 'tests: [smo|ke]'));
      assert.match(hover(new DeployFileValidator(''), b.text, b.position)!.markdown, /image `registry.example.com\/smoke:1.0`/);
    });
    it('returns nothing outside any node', () => {
      assert.equal(hover(new DeployFileValidator(''), '\n\n', { line: 1, character: 0 }), undefined);
    });
  });

  describe('outline', () => {
    it('lists pipelines → environments, strategy → stages, tests, with ranges in the file', () => {
      const text = `${BASE}---\n${edit(BASE, 'name: shop', 'name: shop-two')}`;
      const symbols = outline(new DeployFileValidator(''), text);
      assert.deepEqual(symbols.map((s) => s.name), ['shop', 'shop-two']);
      const second = symbols[1];
      assert.deepEqual(second.children.map((c) => `${c.kind}:${c.name}`), ['environment:staging', 'environment:production', 'strategy:strategy', 'test:smoke']);
      assert.deepEqual(second.children[2].children.map((c) => `${c.name} ${c.detail}`), ['stage 1 canary 10%, baseline 10% · auto', 'stage 2 canary 50%, baseline 10% · manual']);
      assert.deepEqual(second.selectionRange, rangeOf(text, 'shop-two'));
      assert.equal(second.children[1].detail, 'prod / shop · protected · after staging');
    });
    it('works on a document with schema errors', () => {
      const symbols = outline(new DeployFileValidator(''), edit(BASE, 'mode: manual', 'mode: whenever'));
      assert.equal(symbols[0].children.length, 4);
    });
  });

  describe('quick fixes', () => {
    it('fix weights, a misspelled key and a missing tag at the diagnostic ranges', () => {
      let text = edit(BASE, 'current: 80 }', 'current: 70 }');
      text = edit(text, 'successRate: 99', 'sucessRate: 99');
      text = edit(text, 'registry.example.com/shop:1.2.0', 'registry.example.com/shop');
      const r = parseDeployFile(text, '');
      const weights = quickFixes(r.diagnostics, rangeOf(text, 'weights'));
      assert.deepEqual(weights.map((f) => f.title), ['Set `current` to 80 so the weights sum to 100']);
      const key = quickFixes(r.diagnostics, rangeOf(text, 'sucessRate'));
      assert.deepEqual(key.map((f) => f.title), ['Change to `successRate`']);
      const tag = quickFixes(r.diagnostics, rangeOf(text, 'registry.example.com/shop'));
      assert.equal(tag[0].snippet, true);
      let fixed = text;
      for (const f of [...weights, ...key]) fixed = applyFix(fixed, f.diagnostic);
      fixed = applyFix(fixed, tag[0].diagnostic).replace('${1:1.0.0}', '1.3.0');
      assert.deepEqual(parseDeployFile(fixed, '').diagnostics, []);
      assert.deepEqual(quickFixes(r.diagnostics, rangeOf(text, 'kind')), []);
    });
  });
});
