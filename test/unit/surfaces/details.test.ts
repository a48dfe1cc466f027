import assert from 'node:assert/strict';
import { checkLine, pipelineDetails } from '../../../src/extension/tree/details';
import { snapshot } from './fixtures';

describe('surfaces: pipeline details', () => {
  const now = Date.parse('2026-11-26T10:05:00Z');

  it('lists versions, gate, the current stage tests and checks, and past runs', () => {
    const s = snapshot({
      phase: 'waiting',
      stage: { index: 1, count: 2 },
      versions: [
        { role: 'stable', deployment: 'checkout', image: 'r/checkout:1.7.0', desired: 8, ready: 8, updated: 8, available: 8 },
        { role: 'canary', deployment: 'checkout-canary', image: 'r/checkout:1.8.0', desired: 2, ready: 1, updated: 2, available: 1 },
      ],
      gate: { kind: 'analysis', since: '2026-11-26T10:02:00Z', message: 'analysis 1 of 3 checks passed' },
      tests: [
        { name: 'smoke', stage: 0, status: 'passed', durationMs: 1200 },
        { name: 'load', stage: 1, status: 'failed', durationMs: 61000, message: 'exit 1' },
      ],
      analysis: [
        { stage: 0, check: 1, metric: 'successRate', query: 'q', value: 99.9, threshold: 99, comparator: 'min', verdict: 'pass', message: '', at: '2026-11-26T10:01:00Z' },
        { stage: 1, check: 1, metric: 'latencyP50Ms', query: 'q', value: 120, threshold: 250, comparator: 'max', verdict: 'pass', message: '', at: '2026-11-26T10:04:00Z' },
      ],
      history: [{ runId: 'r1', image: 'r/checkout:1.7.0', fromImage: 'r/checkout:1.6.0', phase: 'succeeded', reason: '', startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:30:00Z' }],
    });
    const d = pipelineDetails(s, undefined, now);
    assert.deepEqual(
      d.map((x) => x.id),
      ['version/stable', 'version/canary', 'gate', 'test/1/load', 'check/1/1/latencyP50Ms', 'history'],
    );
    assert.equal(d[1].description, '1.8.0 · 1/2 ready');
    assert.equal(d[2].description, 'analysis 1 of 3 checks passed · since 3m ago');
    assert.equal(d[3].description, 'failed · 1m 1s · exit 1');
    assert.equal(d[4].description, '120 ms ≤ 250 ms · pass');
    assert.equal(d[5].children?.[0].label, '1.7.0');
  });

  it('shows the error first and keeps the last known state', () => {
    const s = snapshot({ error: { kind: 'forbidden', message: 'forbidden: cannot watch configmaps in checkout-staging' } });
    const d = pipelineDetails(s, undefined, now);
    assert.equal(d[0].kind, 'error');
    assert.match(d[0].description!, /cannot watch configmaps/);
    assert.equal(d[1].kind, 'version');
    assert.deepEqual(pipelineDetails(undefined, 'engine failed', now).map((x) => x.kind), ['error']);
  });

  it('writes failed checks with the measured value, "no data" as such, and the baseline', () => {
    assert.equal(
      checkLine({ stage: 0, check: 2, metric: 'successRate', query: '', value: 91.2, baselineValue: 99.8, threshold: 99, comparator: 'min', verdict: 'fail', message: '', at: '' }),
      '91.2% ✗ 99% (baseline 99.8%) · fail',
    );
    assert.equal(checkLine({ stage: 0, check: 1, metric: 'latencyP99Ms', query: '', value: null, threshold: 500, comparator: 'max', verdict: 'noData', message: '', at: '' }), 'no data ? 500 ms · noData');
  });
});
