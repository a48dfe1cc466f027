import assert from 'node:assert/strict';
import { composeReason, imageTag, mergedStatus, needsHuman, pipelineContextValue, age } from '../../../src/extension/model/status';
import { allowing, snapshot } from './fixtures';

describe('surfaces: merged status', () => {
  it('uses the engine reason as the description when there is one', () => {
    const s = snapshot({ phase: 'waiting', reason: 'stage 2/4 · canary 25% · waiting for promotion', gate: { kind: 'manual', since: '2026-11-26T10:00:00Z', message: 'waiting for promotion' } });
    const m = mergedStatus(s);
    assert.equal(m.description, 'stage 2/4 · canary 25% · waiting for promotion');
    assert.equal(m.icon, 'bell-dot');
    assert.equal(m.label, 'waiting for you');
  });

  it('composes a reason from stage, weight and gate when the engine gave none', () => {
    const s = snapshot({
      phase: 'waiting',
      stage: { index: 1, count: 4 },
      weights: { requested: { canary: 25, baseline: 0, current: 75 }, actual: { canary: 25, baseline: 0, current: 75 } },
      gate: { kind: 'analysis', since: '2026-11-26T10:00:00Z', message: 'analysis 2 of 3 checks passed' },
    });
    assert.equal(composeReason(s), 'stage 2/4 · canary 25% · analysis 2 of 3 checks passed');
    assert.equal(mergedStatus(s).icon, 'watch');
  });

  it('describes finished states with the stable tag', () => {
    const s = snapshot({ phase: 'succeeded', versions: [{ role: 'stable', deployment: 'c', image: 'r.example/c:1.8.0', desired: 3, ready: 3, updated: 3, available: 3 }] });
    assert.equal(mergedStatus(s).description, 'healthy · 1.8.0');
    assert.equal(mergedStatus(snapshot({ versions: [] })).description, 'never deployed');
    assert.equal(mergedStatus(snapshot({ phase: 'rolledBack', reason: 'rolled back: success rate 91.2% < 99%' })).description, 'rolled back: success rate 91.2% < 99%');
    assert.equal(mergedStatus(snapshot({ phase: 'rolledBack', reason: 'analysis failed at stage 1/3: success rate 91.2% < 99%' })).description, 'rolled back: analysis failed at stage 1/3: success rate 91.2% < 99%');
    assert.equal(mergedStatus(snapshot({ phase: 'aborted', reason: 'aborted by vscode:alice at stage 1/3' })).description, 'aborted by vscode:alice at stage 1/3');
    assert.equal(mergedStatus(snapshot({ phase: 'succeeded', reason: 'registry.example.com/c:1.7.0 is live' })).description, 'healthy · 1.7.0');
  });

  it('shows cluster errors instead of the last state', () => {
    const s = snapshot({ phase: 'progressing', error: { kind: 'unreachable', message: 'context sandbox (https://127.0.0.1:1) is unreachable' } });
    const m = mergedStatus(s);
    assert.equal(m.label, 'unreachable');
    assert.match(m.description, /127\.0\.0\.1/);
    assert.equal(needsHuman(s), false);
  });

  it('counts manual gates, no-data gates and failures as waiting for a human', () => {
    assert.equal(needsHuman(snapshot({ phase: 'waiting', gate: { kind: 'manual', since: '', message: '' } })), true);
    assert.equal(needsHuman(snapshot({ phase: 'waiting', gate: { kind: 'noData', since: '', message: '' } })), true);
    assert.equal(needsHuman(snapshot({ phase: 'failed' })), true);
    assert.equal(needsHuman(snapshot({ phase: 'waiting', gate: { kind: 'analysis', since: '', message: '' } })), false);
    assert.equal(needsHuman(snapshot({ phase: 'progressing' })), false);
  });

  it('puts one flag per allowed action in the context value, never a prefix of another', () => {
    const v = pipelineContextValue(snapshot({ phase: 'waiting', actions: allowing('promoteFull', 'abort'), gate: { kind: 'manual', since: '', message: '' } }), true);
    assert.deepEqual(v.split(' ').sort(), ['active', 'canAbort', 'canPromoteFull', 'pipeline', 'protected', 'waitingForHuman']);
    assert.doesNotMatch(v, /\bcanPromote\b/);
    assert.match(pipelineContextValue(undefined, false), /\bcanStart\b/);
  });

  it('extracts tags and ages', () => {
    assert.equal(imageTag('registry.example.com:5000/a/b:1.2.3'), '1.2.3');
    assert.equal(imageTag('registry.example.com:5000/a/b'), 'latest');
    assert.equal(age('2026-11-26T10:00:00Z', Date.parse('2026-11-26T10:03:00Z')), '3m ago');
  });
});
