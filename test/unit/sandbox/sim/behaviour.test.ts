import assert from 'node:assert/strict';
import { BehaviourTable, imageTag, matchMarker, parseOverride, DEFAULT_BEHAVIOUR } from '../../../../src/sandbox/sim/behaviour';

describe('sandbox behaviour table', () => {
  const t = new BehaviourTable();

  it('reads the tag, not the repository name', () => {
    assert.equal(imageTag('registry.example.com:5000/team/crash-reporter:1.2-errors'), '1.2-errors');
    assert.equal(imageTag('nginx'), 'nginx');
    assert.equal(t.forImage('registry.example.com/crash-reporter:1.0').crash, false);
  });

  it('is healthy by default with a tiny error rate', () => {
    const b = t.forImage('registry.example.com/web:1.0.0');
    assert.equal(b.crash, false);
    assert.equal(b.unready, false);
    assert.ok(b.errorRate > 0 && b.errorRate < 0.01);
    assert.equal(b.jobSucceeds, true);
  });

  it('applies every matching marker, with optional numeric parameters', () => {
    assert.equal(t.forImage('web:2.0-crash').crash, true);
    assert.equal(t.forImage('web:2.0-unready').unready, true);
    assert.equal(t.forImage('web:2.0-errors').errorRate, 0.12);
    assert.equal(t.forImage('web:2.0-errors30').errorRate, 0.3);
    assert.equal(t.forImage('web:2.0-latency').latency.extraMs, 300);
    assert.equal(t.forImage('web:2.0-latency800').latency.extraMs, 800);
    assert.equal(t.forImage('web:2.0-slowreq').latency.extraMs, 300);
    assert.equal(t.forImage('web:2.0-slow').readyDelayMs, 45_000);
    assert.equal(t.forImage('web:2.0-slow').latency.extraMs, 0, '-slow is not -slowreq');
    const both = t.forImage('web:2.0-slow90-errors5');
    assert.equal(both.readyDelayMs, 90_000);
    assert.equal(both.errorRate, 0.05);
    const job = t.forImage('tests:1.0-fail');
    assert.equal(job.jobSucceeds, false);
    assert.match(job.jobFailMessage, /expected HTTP 200/);
  });

  it('matches whole markers only', () => {
    assert.equal(matchMarker('1.0-crashed', '-crash'), null);
    assert.equal(matchMarker('1.0-crash.2', '-crash'), undefined);
    assert.equal(matchMarker('1.0-errors7', '-errors'), 7);
  });

  it('overrides add rules and defaults change the baseline', () => {
    const table = new BehaviourTable();
    table.setOverrides([{ marker: '-flaky', set: { errorRate: 0.4, latency: { extraMs: 50 } } }]);
    assert.equal(table.forImage('x:1-flaky').errorRate, 0.4);
    assert.equal(table.forImage('x:1-flaky').latency.extraMs, 50);
    table.setDefaults({ startDelayMs: 1 });
    assert.equal(table.forImage('x:1').startDelayMs, 1);
    assert.equal(DEFAULT_BEHAVIOUR.startDelayMs, 3_000, 'defaults are not mutated');
  });

  it('validates overrides with a message naming the field', () => {
    assert.match(String(parseOverride({ marker: '-x', set: { errorRate: 2 } }, 'overrides[0]')), /overrides\[0\]\.set\.errorRate: expected a share/);
    assert.match(String(parseOverride({ marker: '-x', set: { nope: 1 } }, 'o')), /o\.set\.nope: unknown field/);
    assert.match(String(parseOverride({ set: {} }, 'o')), /o\.marker/);
    assert.deepEqual(parseOverride({ marker: '-x', set: { crash: true } }, 'o'), { marker: '-x', description: undefined, set: { crash: true } });
  });
});
