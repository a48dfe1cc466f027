// analysis.minRequests and analysis.queries.requests in the deploy file: defaults filled into the model,
// diagnostics for bad values (same quality as other fields), KD123 when custom metric queries leave the
// minimum off, and the schema text the editor shows on hover and completion.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { memoryIO } from '../cli.test';
import { DeployFileValidator, parseDeployFile } from '../../../src/deployfile/parse';
import { DEFAULTS, minRequestsDefault } from '../../../src/deployfile/build';
import { completions } from '../../../src/deployfile/editor/completion';
import { hover } from '../../../src/deployfile/editor/hover';
import { schemaAt } from '../../../src/deployfile/schema';
import type { Analysis, Pipeline } from '../../../src/deployfile/model';
import { BASE, check, edit, expectOne, rangeOf } from './helpers';

const ANALYSIS = 'analysis: { successRate: 99, schedule: "*/1 * * * *", checks: 2 }';
const withAnalysis = (inner: string) => edit(BASE, ANALYSIS, `analysis: { successRate: 99, schedule: "*/1 * * * *", checks: 2${inner} }`);

function analysisOf(text: string): Analysis {
  const r = parseDeployFile(text, '/work/test/shop.deploy.yaml');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.message), []);
  const p: Pipeline = r.pipelines[0];
  assert.equal(p.strategy.type, 'canary');
  const a = p.strategy.type === 'canary' ? p.strategy.stages[0].analysis : undefined;
  assert.ok(a);
  return a;
}

describe('deploy file: analysis.minRequests', () => {
  it('defaults to 100 in the model and in the schema; an explicit value is kept, 0 included', () => {
    assert.equal(analysisOf(BASE).minRequests, 100);
    assert.equal(DEFAULTS.minRequests, 100);
    assert.equal(schemaAt(['spec', 'strategy', 'stages', 0, 'analysis', 'minRequests'], { spec: { strategy: { type: 'canary' } } })?.default, DEFAULTS.minRequests);
    assert.equal(analysisOf(withAnalysis(', minRequests: 250')).minRequests, 250);
    assert.equal(analysisOf(withAnalysis(', minRequests: 0')).minRequests, 0);
    assert.deepEqual(check(withAnalysis(', minRequests: 0')), []);
  });

  it('the blue-green analysis has it too', () => {
    const text = edit(BASE, '    type: canary\n    baseline: true\n    stages:\n      - weights: { canary: 10, baseline: 10, current: 80 }\n        mode: auto\n        ' + ANALYSIS + '\n        tests: [smoke]\n      - weights: { canary: 50, baseline: 10, current: 40 }\n        mode: manual\n', '    type: blueGreen\n    previewWeight: 10\n    analysis: { successRate: 99, minRequests: 40 }\n');
    const r = parseDeployFile(text, '/work/test/shop.deploy.yaml');
    assert.deepEqual(r.diagnostics, []);
    const s = r.pipelines[0].strategy;
    assert.equal(s.type === 'blueGreen' ? s.analysis?.minRequests : undefined, 40);
  });

  it('a negative number: KD054 at the value, naming the field and the lowest allowed value', () => {
    const text = withAnalysis(', minRequests: -5');
    const d = expectOne(text, 'KD054', rangeOf(text, '-5'));
    assert.equal(d.message, '`minRequests` must be at least 0, got `-5`');
    assert.equal(d.severity, 'error');
  });

  it('a fraction or text: KD050 at the value, saying a whole number is expected', () => {
    const frac = withAnalysis(', minRequests: 12.5');
    assert.equal(expectOne(frac, 'KD050', rangeOf(frac, '12.5')).message, '`minRequests` must be a whole number, got a number `12.5`');
    const text = withAnalysis(', minRequests: lots');
    assert.equal(expectOne(text, 'KD050', rangeOf(text, 'lots')).message, '`minRequests` must be a whole number, got text `lots`');
  });

  it('`kube-delivery validate` prints it with file, line and column', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-minreq-'));
    try {
      const text = withAnalysis(', minRequests: -1');
      fs.writeFileSync(path.join(tmp, 'shop.deploy.yaml'), text);
      const io = memoryIO(tmp);
      assert.equal(await runCli(['validate', 'shop.deploy.yaml'], io), 1);
      const r = rangeOf(text, '-1');
      assert.equal(io.out.join('').trim(), `shop.deploy.yaml:${r.start.line + 1}:${r.start.character + 1}: error KD054 \`minRequests\` must be at least 0, got \`-1\``);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('queries.requests is a template like the others; an empty one is refused', () => {
    const q = 'sum(increase(http_requests_total{track=\\"{{version}}\\"}[2m]))';
    const a = analysisOf(withAnalysis(`, queries: { requests: "${q}" }`));
    assert.equal(a.queries?.requests, 'sum(increase(http_requests_total{track="{{version}}"}[2m]))');
    assert.equal(a.minRequests, 100, 'a request count alone keeps the default on');
    const empty = withAnalysis(', queries: { requests: "" }');
    assert.ok(check(empty).some((d) => d.code === 'KD054' && /`requests`/.test(d.message)), JSON.stringify(check(empty)));
  });

  it('KD123: custom metric queries without a request count leave the minimum off, and say so at `queries`', () => {
    const text = withAnalysis(', queries: { successRate: "sum(rate(ok[1m])) / sum(rate(all[1m])) * 100" }');
    const d = expectOne(text, 'KD123', rangeOf(text, 'queries'));
    assert.equal(d.severity, 'warning');
    assert.match(d.message, /no `requests` query, so `minRequests` is off/);
    assert.match(d.message, /add `queries\.requests`/);
    assert.equal(analysisOf(text).minRequests, 0);
    // Either answer silences it: a count query (the default applies again) or an explicit minimum.
    const counted = withAnalysis(', queries: { successRate: "x * 100", requests: "sum(increase(all[1m]))" }');
    assert.deepEqual(check(counted), []);
    assert.equal(analysisOf(counted).minRequests, 100);
    const explicit = withAnalysis(', minRequests: 0, queries: { successRate: "x * 100" }');
    assert.deepEqual(check(explicit), []);
    const forced = withAnalysis(', minRequests: 50, queries: { latencyP50Ms: "x" }');
    assert.deepEqual(check(forced), []);
    assert.equal(analysisOf(forced).minRequests, 50);
  });

  it('minRequestsDefault: off only for replaced metric queries without a count', () => {
    assert.equal(minRequestsDefault({}), 100);
    assert.equal(minRequestsDefault({ queries: { requests: 'x' } }), 100);
    assert.equal(minRequestsDefault({ queries: { latencyP99Ms: 'x' } }), 0);
    assert.equal(minRequestsDefault({ queries: { latencyP99Ms: 'x', requests: 'y' } }), 100);
  });

  it('hover explains the minimum, what inconclusive means and the default', () => {
    const text = withAnalysis(', minRequests: 100');
    const i = text.indexOf('minRequests') + 3;
    const before = text.slice(0, i);
    const position = { line: before.split('\n').length - 1, character: i - before.lastIndexOf('\n') - 1 };
    const h = hover(new DeployFileValidator(''), text, position)!;
    assert.match(h.markdown, /\*\*`minRequests`\*\*/);
    assert.match(h.markdown, /inconclusive/);
    assert.match(h.markdown, /too few requests to judge: 42 in the last 1m, needs 100/);
    assert.match(h.markdown, /counts towards neither `checks` nor `failureLimit`/);
    assert.match(h.markdown, /waits for a human/);
    assert.match(h.markdown, /baseline/);
    assert.match(h.markdown, /Default: `100`/);
  });

  it('completion offers minRequests in an analysis and requests in its queries', () => {
    const text = edit(BASE, ANALYSIS, 'analysis:\n          successRate: 99\n          min');
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.endsWith('          min'));
    const items = completions(new DeployFileValidator(''), text, { line, character: lines[line].length }).map((c) => c.label);
    assert.ok(items.includes('minRequests'), items.join(', '));
    const q = edit(BASE, ANALYSIS, 'analysis:\n          successRate: 99\n          queries:\n            re');
    const qLines = q.split('\n');
    const qLine = qLines.findIndex((l) => l.endsWith('            re'));
    const qItems = completions(new DeployFileValidator(''), q, { line: qLine, character: qLines[qLine].length }).map((c) => c.label);
    assert.ok(qItems.includes('requests'), qItems.join(', '));
  });
});
