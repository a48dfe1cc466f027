import assert from 'node:assert/strict';
import { ManualClock, RealClock } from '../../../../src/sandbox/sim/clock';

describe('sandbox clock', () => {
  it('manual clock fires due timers in time order, ties in insertion order, and stops at the target', async () => {
    const c = new ManualClock(1_000);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b@300'), 300);
    c.setTimeout(() => fired.push('a@100'), 100);
    c.setTimeout(() => fired.push('c@100'), 100);
    const late = c.setTimeout(() => fired.push('never'), 200);
    c.clearTimeout(late);
    c.setTimeout(() => fired.push('d@900'), 900);
    await c.advance(500);
    assert.deepEqual(fired, ['a@100', 'c@100', 'b@300']);
    assert.equal(c.now(), 1_500);
    assert.equal(c.pending(), 1);
  });

  it('timers set by a firing timer run in the same advance when due', async () => {
    const c = new ManualClock(0);
    const seen: number[] = [];
    c.setTimeout(() => {
      seen.push(c.now());
      c.setTimeout(() => seen.push(c.now()), 50);
    }, 100);
    await c.advance(200);
    assert.deepEqual(seen, [100, 150]);
  });

  it('intervals repeat until cleared and sleep resolves on clock time', async () => {
    const c = new ManualClock(0);
    const ticks: number[] = [];
    const h = c.setInterval(() => ticks.push(c.now()), 1000);
    let slept = false;
    void c.sleep(2500).then(() => (slept = true));
    await c.advance(3000);
    c.clearInterval(h);
    await c.advance(3000);
    assert.deepEqual(ticks, [1000, 2000, 3000]);
    assert.ok(slept);
  });

  it('advanceUntil stops as soon as the condition holds', async () => {
    const c = new ManualClock(0);
    let flag = false;
    c.setTimeout(() => (flag = true), 4_200);
    assert.equal(await c.advanceUntil(() => flag, 60_000, 1_000), true);
    assert.equal(c.now(), 5_000);
    assert.equal(await c.advanceUntil(() => false, 2_000), false);
  });

  it('real clock rejects a non-positive speed and runs timers', async () => {
    assert.throws(() => new RealClock(0), /positive/);
    const c = new RealClock(1000);
    await new Promise<void>((resolve) => c.setTimeout(resolve, 50));
    c.dispose();
  });
});
