import assert from 'node:assert/strict';
import { exitFor, parseRolloutArgs, renderText } from '../../../src/cli/commands/rollout';
import { UsageError } from '../../../src/cli/io';
import { buildSnapshot } from '../../../src/engine/view';
import { emptyDoc } from '../../../src/engine/record';
import { emptyFacts } from '../../../src/engine/facts';
import { newRun } from '../../../src/engine/machine';
import { examplePipeline, planOf } from './harness';

describe('rollout CLI arguments and output', () => {
  it('parses the documented forms', () => {
    const a = parseRolloutArgs(['promote', '-f', 'x.deploy.yaml', '--env=staging', '--full', '--output', 'json', '--wait']);
    assert.ok(a !== 'help');
    assert.deepEqual([a.verb, a.file, a.env, a.full, a.output, a.wait], ['promote', 'x.deploy.yaml', 'staging', true, 'json', true]);
    assert.equal(parseRolloutArgs(['start', '--help']), 'help');
    const r = parseRolloutArgs(['rerun-test', 'smoke', '-f', 'x.deploy.yaml', '--env', 'staging', '--confirm', 'staging']);
    assert.ok(r !== 'help');
    assert.deepEqual([r.verb, r.test, r.confirm], ['rerun-test', 'smoke', 'staging']);
    const nd = parseRolloutArgs(['start', '-f', 'x.deploy.yaml', '--env', 'staging', '--no-drive']);
    assert.ok(nd !== 'help');
    assert.deepEqual([nd.drive, nd.wait], [false, false]);
    const d = parseRolloutArgs(['start', '-f', 'x.deploy.yaml', '--env', 'staging']);
    assert.ok(d !== 'help' && d.drive, 'a background driver by default');
  });

  for (const [argv, msg] of [
    [['launch', '-f', 'x', '--env', 'e'], /unknown subcommand 'launch'/],
    [['start', '--env', 'e'], /missing -f FILE/],
    [['start', '-f', 'x'], /missing --env ENV/],
    [['abort', '-f', 'x', '--env', 'e', '--full'], /--full only goes with promote/],
    [['status', '-f', 'x', '--env', 'e', '--wait'], /--wait does not go with status/],
    [['start', '-f', 'x', '--env', 'e', '--stop-at-gate'], /--stop-at-gate needs --wait/],
    [['start', '-f', 'x', '--env', 'e', '--output', 'yaml'], /--output must be text or json, got 'yaml'/],
    [['start', '-f', 'x', '--env'], /--env needs a value/],
    [['rerun-test', '-f', 'x', '--env', 'e'], /rerun-test needs the name of a test/],
    [['rerun-test', 'a', 'b', '-f', 'x', '--env', 'e'], /unexpected argument 'b'/],
    [['start', 'smoke', '-f', 'x', '--env', 'e'], /unexpected argument 'smoke'/],
    [['start', '-f', 'x', '--env', 'e', '--no-drive', '--wait'], /--no-drive only goes with start or retry without --wait/],
    [['promote', '-f', 'x', '--env', 'e', '--no-drive'], /--no-drive only goes with start or retry/],
    [['start', '-f', 'x', '--env', 'e', '--run', 'r1'], /unknown option '--run'/],
  ] as const) {
    it(`rejects ${argv.join(' ')}`, () => {
      assert.throws(() => parseRolloutArgs([...argv]), (e: Error) => e instanceof UsageError && msg.test(e.message) && !e.message.includes('\n'));
    });
  }

  it('maps phases to exit codes', () => {
    const plan = planOf(examplePipeline('canary-replicas.deploy.yaml'));
    const snap = (patch: Partial<ReturnType<typeof newRun>>) =>
      buildSnapshot({ plan, doc: { ...emptyDoc('checkout'), current: { ...newRun(plan, { runId: 'r', image: 'i', now: 0 }), ...patch } }, facts: emptyFacts(), now: 0, seq: 1 });
    assert.equal(exitFor(snap({ phase: 'succeeded' }), false), 0);
    assert.equal(exitFor(snap({ phase: 'rolledBack' }), false), 1);
    assert.equal(exitFor(snap({ phase: 'failed' }), false), 1);
    assert.equal(exitFor(snap({ phase: 'aborted' }), false), 3);
    assert.equal(exitFor(snap({ phase: 'waiting', gate: { kind: 'manual', since: 0, message: 'm' } }), true), 4);
    assert.equal(exitFor(snap({ phase: 'waiting', gate: { kind: 'manual', since: 0, message: 'm' } }), false), undefined);
    assert.equal(exitFor(snap({ phase: 'waiting', gate: { kind: 'analysis', since: 0, message: 'm' } }), true), undefined);
    const text = renderText(snap({ phase: 'waiting', reason: 'waiting for promotion', gate: { kind: 'manual', since: 0, message: 'waiting for promotion' } }));
    assert.match(text, /checkout → staging \(canary, replicas, sandbox\/checkout-staging\) {2}run r/);
    assert.match(text, /gate {6}manual: waiting for promotion/);
  });
});
