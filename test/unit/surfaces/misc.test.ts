import assert from 'node:assert/strict';
import { confirmationError, validateImage } from '../../../src/extension/model/validation';
import { allTargets, resolveTarget, toTargetRef } from '../../../src/extension/model/targets';
import { summarize, statusBarText } from '../../../src/extension/status/summary';
import { finishedAttempt, resultItems } from '../../../src/extension/testing/results';
import { examplePipelines, snapshot } from './fixtures';

describe('surfaces: targets, prompts, summary, test results', () => {
  const targets = allTargets(examplePipelines());

  it('reads targets from tree nodes, CodeLens arguments and dashboard refs; none from the palette', () => {
    assert.deepEqual(toTargetRef({ target: { file: '/f', pipeline: 'p', environment: 'e' }, kind: 'pipeline' }), { file: '/f', pipeline: 'p', environment: 'e' });
    assert.deepEqual(toTargetRef({ pipeline: 'p', environment: 'e' }), { file: '', pipeline: 'p', environment: 'e' });
    assert.equal(toTargetRef(undefined), undefined);
    assert.equal(toTargetRef({ pipeline: 'p' }), undefined);
    assert.equal(resolveTarget(examplePipelines(), { file: '', pipeline: 'checkout', environment: 'production' })?.environmentModel.protected, true);
    assert.equal(resolveTarget(examplePipelines(), { file: '/elsewhere.deploy.yaml', pipeline: 'checkout', environment: 'production' }), undefined);
  });

  it('accepts only the exact environment name as confirmation', () => {
    assert.equal(confirmationError('production', 'production'), undefined);
    assert.match(confirmationError('production', 'Production')!, /exactly/);
    assert.match(confirmationError('production', '')!, /production/);
  });

  it('checks image references', () => {
    assert.equal(validateImage('registry.example.com/checkout:1.9.0-errors'), undefined);
    assert.equal(validateImage('nginx@sha256:abc'), undefined);
    assert.ok(validateImage(''));
    assert.ok(validateImage('a b'));
    assert.ok(validateImage('-x'));
  });

  it('counts active rollouts and those waiting for a human', () => {
    const [staging, production] = targets;
    const s = summarize([
      { target: staging, snapshot: snapshot({ phase: 'waiting', gate: { kind: 'manual', since: '', message: '' } }) },
      { target: production, snapshot: snapshot({ phase: 'progressing' }) },
    ]);
    assert.equal(s.waiting.length, 1);
    assert.equal(s.active.length, 2);
    assert.equal(statusBarText(s), '$(rocket) 2 rollouts · 1 waiting');
    assert.equal(statusBarText(summarize([{ target: staging, snapshot: snapshot({ phase: 'succeeded' }) }])), undefined);
  });

  it('turns tests and checks into results with expected against actual', () => {
    const items = resultItems(
      snapshot({
        runId: 'r1',
        tests: [{ name: 'smoke', stage: 0, status: 'failed', durationMs: 3000, message: 'exit 22', logExcerpt: 'curl: (22) 503' }],
        analysis: [{ stage: 0, check: 2, metric: 'successRate', query: 'sum(rate(x[1m]))', value: 91.2, threshold: 99, comparator: 'min', verdict: 'fail', message: 'success rate 91.2% < 99%', at: 't' }],
      }),
    );
    assert.deepEqual(items.map((i) => [i.id, i.outcome, i.expected, i.actual]), [
      ['test/0/smoke', 'failed', 'Job completes successfully', 'failed: exit 22'],
      ['check/0/2/successRate', 'failed', '≥ 99%', '91.2%'],
    ]);
    assert.match(items[0].message!, /curl: \(22\) 503/);
    assert.equal(items[0].durationMs, 3000);
  });

  it('shows the latest attempt of a re-run test, and finds an attempt once it has finished', () => {
    const first = { name: 'smoke', stage: 0, status: 'failed' as const, durationMs: 3000, message: 'exit 22', job: 'checkout-smoke-0' };
    const pending = { name: 'smoke', stage: 0, status: 'pending' as const, attempt: 2, job: 'checkout-smoke-0-r2' };
    const s1 = snapshot({ runId: 'r1', tests: [first, pending, { name: 'e2e', stage: 0, status: 'passed', durationMs: 10 }] });
    const items = resultItems(s1);
    assert.deepEqual(items.map((i) => [i.id, i.outcome, i.attempt, i.job]), [
      ['test/0/smoke', 'enqueued', 2, 'checkout-smoke-0-r2'],
      ['test/0/e2e', 'passed', 1, undefined],
    ]);
    assert.equal(finishedAttempt(s1, { name: 'smoke', stage: 0, attempt: 2, job: 'checkout-smoke-0-r2' }), undefined, 'still pending');
    assert.equal(finishedAttempt(s1, { name: 'smoke', stage: 0, attempt: 1 })?.status, 'failed');

    const done = { ...pending, status: 'passed' as const, durationMs: 1200 };
    const s2 = snapshot({ runId: 'r1', tests: [first, done] });
    assert.equal(finishedAttempt(s2, { name: 'smoke', stage: 0, attempt: 2, job: 'checkout-smoke-0-r2' })?.durationMs, 1200);
    assert.equal(finishedAttempt(s2, { name: 'smoke', stage: 0, attempt: 2, job: 'another-job' }), undefined, 'another Job is another attempt');
    const [item] = resultItems(s2);
    assert.deepEqual([item.outcome, item.durationMs, item.expected], ['passed', 1200, undefined]);
    assert.match(item.message!, /^attempt 2 \(Job checkout-smoke-0-r2\)/);
    assert.notEqual(item.signature, items[0].signature, 'a new verdict is reported again');
  });
});
