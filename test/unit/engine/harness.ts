// Test harness: parse a real example, run a session against the fake cluster on a manual clock.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDeployFile } from '../../../src/deployfile/parse';
import type { Pipeline } from '../../../src/deployfile/model';
import { ManualClock } from '../../../src/engine/clock';
import { makePlan, type Plan } from '../../../src/engine/plan';
import { RolloutSession } from '../../../src/engine/session';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { FakeCluster } from './fake-cluster';

export const EXAMPLES = resolve(__dirname, '../../../examples');

export function examplePipeline(file: string, mutate?: (text: string) => string): Pipeline {
  const path = join(EXAMPLES, file);
  let text = readFileSync(path, 'utf8');
  if (mutate) text = mutate(text);
  const r = parseDeployFile(text, path);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`${file}: ${errors.map((e) => `${e.range.start.line + 1}: ${e.message}`).join('; ')}`);
  return r.pipelines[0];
}

export function planOf(p: Pipeline, env = 'staging'): Plan {
  const r = makePlan(p, env);
  if (!r.ok) throw new Error(r.message);
  return r.plan;
}

/** Lets pending promise chains run (the fake cluster answers in microtasks). */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Awaits a promise while moving virtual time on (the awaited work may wait on the clock, e.g. backoff). */
export async function pump<T>(clock: { advance(ms: number): void }, p: Promise<T>, stepMs = 200): Promise<T> {
  let done = false;
  const wrapped = p.finally(() => {
    done = true;
  });
  for (let i = 0; i < 100_000 && !done; i++) {
    await settle(5);
    if (!done) clock.advance(stepMs);
  }
  return wrapped;
}

export class World {
  clock = new ManualClock();
  cluster: FakeCluster;
  sessions: RolloutSession[] = [];
  constructor(seed = 1) {
    this.cluster = new FakeCluster(this.clock, seed);
  }
  session(plan: Plan, identity = 'driver-a', extra: Partial<ConstructorParameters<typeof RolloutSession>[0]> = {}): RolloutSession {
    let n = 0;
    const s = new RolloutSession({ plan, ops: this.cluster, clock: this.clock, identity, newRunId: () => `run${identity.slice(-1)}${++n}`, log: process.env.KD_DEBUG ? (m) => console.log(`[${identity}] ${m}`) : undefined, ...extra });
    this.sessions.push(s);
    return s;
  }
  /** Advances virtual time in steps until pred holds; returns the snapshot or throws with the last one. */
  async until(s: RolloutSession, pred: (x: RolloutSnapshot) => boolean, opts: { maxMs?: number; stepMs?: number; each?: () => void | Promise<void> } = {}): Promise<RolloutSnapshot> {
    const max = opts.maxMs ?? 30 * 60_000;
    const step = opts.stepMs ?? 500;
    await settle();
    for (let t = 0; t <= max; t += step) {
      const snap = s.snapshot();
      if (pred(snap)) return snap;
      this.clock.advance(step);
      await settle();
      await opts.each?.();
    }
    const last = s.snapshot();
    throw new Error(`condition not reached in ${max / 1000}s of virtual time; last: ${last.phase} step=${s.record.current?.step} · ${last.reason}`);
  }
  dispose() {
    for (const s of this.sessions) s.kill();
    this.cluster.dispose();
  }
}

export const terminal = (s: RolloutSnapshot) => ['succeeded', 'failed', 'rolledBack', 'aborted'].includes(s.phase);
