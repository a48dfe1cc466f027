// Shared test data for the editor-surface unit tests: real pipelines parsed from the examples and a
// small in-memory RolloutService that streams snapshots the way the engine's watch does.
import fs from 'node:fs';
import path from 'node:path';
import type { ActionOptions, ActionResult, Disposable, RolloutService, RolloutTarget } from '../../../src/engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';
import type { Pipeline } from '../../../src/deployfile/model';
import { parseDeployFile } from '../../../src/deployfile/parse';
import { snapshot } from './snapshots';

export { allowing, noActions, snapshot, snapshotOf } from './snapshots';

export const examplesDir = path.resolve(__dirname, '../../../examples');

export function examplePipelines(file = 'canary-replicas.deploy.yaml'): Pipeline[] {
  const p = path.join(examplesDir, file);
  const r = parseDeployFile(fs.readFileSync(p, 'utf8'), p);
  if (!r.pipelines.length) throw new Error(`${file}: ${JSON.stringify(r.diagnostics)}`);
  return r.pipelines;
}

/** In-memory RolloutService: `emit` pushes a snapshot to every watcher of a target. */
export class FakeService implements RolloutService {
  readonly watchers = new Map<string, Set<(s: RolloutSnapshot) => void>>();
  readonly acts: { target: string; action: RolloutAction; options?: ActionOptions }[] = [];
  readonly current = new Map<string, RolloutSnapshot>();
  watchCalls = 0;

  static key(t: RolloutTarget): string {
    return `${t.pipeline.name}@${t.environment}`;
  }

  async status(target: RolloutTarget): Promise<RolloutSnapshot> {
    return this.current.get(FakeService.key(target)) ?? snapshot({ pipeline: target.pipeline.name, environment: target.environment });
  }

  watch(target: RolloutTarget, listener: (s: RolloutSnapshot) => void): Disposable {
    this.watchCalls++;
    const key = FakeService.key(target);
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(listener);
    const first = this.current.get(key) ?? snapshot({ pipeline: target.pipeline.name, environment: target.environment });
    queueMicrotask(() => set!.has(listener) && listener(first));
    return { dispose: () => set!.delete(listener) };
  }

  emit(key: string, s: RolloutSnapshot): void {
    this.current.set(key, s);
    for (const l of this.watchers.get(key) ?? []) l(s);
  }

  activeWatches(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  async act(target: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ target: FakeService.key(target), action, options });
    return { ok: true, snapshot: await this.status(target) };
  }

  dispose(): void {
    this.watchers.clear();
  }
}

/** Resolves when `cond` holds, re-checking on every macrotask; fails after the deadline. */
export async function until(cond: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
