import assert from 'node:assert/strict';
import { gateProblems } from '../../../src/extension/diagnostics/gates';
import { allTargets } from '../../../src/extension/model/targets';
import { examplePipelines, snapshot } from './fixtures';

describe('surfaces: gate diagnostics', () => {
  const [staging] = allTargets(examplePipelines());
  const strategy = staging.pipelineModel.strategy;
  if (strategy.type !== 'canary') throw new Error('canary-replicas example is expected to be a canary');
  const stageWithAnalysis = strategy.stages.findIndex((s) => s.analysis?.successRate !== undefined);

  it('points a failed check at the threshold it failed against, with the value and check count', () => {
    const at = new Date(2026, 10, 26, 10, 42).toISOString();
    const s = snapshot({
      phase: 'rolledBack',
      analysis: [
        { stage: stageWithAnalysis, check: 1, metric: 'successRate', query: 'q', value: 99.9, threshold: 99, comparator: 'min', verdict: 'pass', message: 'ok', at },
        { stage: stageWithAnalysis, check: 2, metric: 'successRate', query: 'q', value: 91.2, threshold: 99, comparator: 'min', verdict: 'fail', message: 'success rate 91.2% < 99%', at },
      ],
    });
    const [p, ...rest] = gateProblems(staging, s);
    assert.equal(rest.length, 0);
    const analysis = strategy.stages[stageWithAnalysis].analysis!;
    assert.deepEqual(p.range, analysis.thresholdRanges.successRate);
    assert.equal(p.message, `rolled back: success rate 91.2% < 99%, check 2 of ${analysis.checks} at 10:42 (checkout → staging)`);
    assert.equal(p.file, staging.file);
  });

  it('points a failed test at its stage and falls back to the environment line', () => {
    const t = gateProblems(staging, snapshot({ phase: 'rolledBack', tests: [{ name: 'smoke', stage: 0, status: 'failed', message: 'exit code 22' }] }));
    assert.deepEqual(t[0].range, strategy.stages[0].range);
    assert.match(t[0].message, /test smoke failed \(exit code 22\)/);
    const crash = gateProblems(staging, snapshot({ phase: 'failed', reason: 'canary pods crash-looping' }));
    assert.deepEqual(crash[0].range, staging.environmentModel.range);
    assert.match(crash[0].message, /^failed: canary pods crash-looping/);
  });

  it('has nothing to say unless the run rolled back or failed (a new run clears it)', () => {
    for (const phase of ['idle', 'progressing', 'waiting', 'succeeded', 'aborted'] as const) {
      assert.deepEqual(gateProblems(staging, snapshot({ phase, analysis: [{ stage: 0, check: 1, metric: 'successRate', query: '', value: 1, threshold: 99, comparator: 'min', verdict: 'fail', message: 'x', at: '' }] })), []);
    }
  });
});
