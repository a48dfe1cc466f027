// RolloutService: the engine's public face. Sessions are shared per (context, namespace, pipeline) — what
// the record ConfigMap and the Lease are named after — and reference-counted by watchers; a second deploy
// file (or environment) mapping onto the same record is refused with an explained conflict; requests are validated (protected environments, `after` order) before
// anything is written. The cluster connection is injected, so this module never loads client-node.
import type { Pipeline } from '../deployfile/model';
import type { ActionOptions, ActionResult, AttentionEntry, ClusterAccess, Disposable, RolloutService, RolloutTarget } from './api';
import { streamAttention } from './attentionWatch';
import { systemClock, within, type Clock } from './clock';
import { makePlan, type Plan } from './plan';
import type { KubeOps } from './ports';
import { parseDoc, isTerminal } from './record';
import { RolloutSession, toActError } from './session';
import type { RolloutAction, RolloutSnapshot } from './snapshot';
import { buildSnapshot } from './view';
import { emptyFacts } from './facts';
import { emptyDoc } from './record';

export type Connector = (access: ClusterAccess, context: string) => { ok: true; ops: KubeOps } | { ok: false; message: string };

export interface EngineOptions {
  access?: ClusterAccess;
  connect: Connector;
  /** The engine's time; may depend on the cluster (a sped-up sandbox). */
  clock?: Clock | ((ops: KubeOps) => Promise<Clock>);
  /** Who drives, in the Lease and the record ("cli:host:pid"). */
  identity?: string;
  leaseDurationMs?: number;
  /** False: never drive (restricted workspaces, read-only views). */
  canDrive?: boolean;
  log?: (message: string) => void;
  /** How long dispose lets the Lease releases it started finish before closing the connections (real ms). */
  releaseWaitMs?: number;
}

/** Default for EngineOptions.releaseWaitMs: a release is two requests; an editor closing cannot wait long. */
export const RELEASE_WAIT_MS = 3000;

const WRITES: RolloutAction[] = ['start', 'promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry'];

interface Entry {
  session: RolloutSession;
  refs: number;
  ops: KubeOps;
}

export class EngineService implements RolloutService {
  private sessions = new Map<string, Promise<Entry>>();
  /** Which deploy file, document and environment each session's plan comes from (same keys as sessions). */
  private origins = new Map<string, { origin: string; describe: string }>();
  private connections = new Map<string, KubeOps>();
  private clocks = new Map<string, Promise<Clock>>();
  private readonly access: ClusterAccess;
  constructor(private readonly opts: EngineOptions) {
    this.access = opts.access ?? {};
  }

  private contextOf(plan: Plan): string {
    return this.access.context || plan.context;
  }

  private ops(context: string): KubeOps {
    let ops = this.connections.get(context);
    if (!ops) {
      const c = this.opts.connect(this.access, context);
      if (!c.ok) throw new ConnectError(c.message);
      ops = c.ops;
      this.connections.set(context, ops);
    }
    return ops;
  }

  private clockFor(context: string, ops: KubeOps): Promise<Clock> {
    const c = this.opts.clock;
    if (!c) return Promise.resolve(systemClock);
    if (typeof c !== 'function') return Promise.resolve(c);
    let p = this.clocks.get(context);
    if (!p) {
      p = c(ops).catch(() => systemClock);
      this.clocks.set(context, p);
    }
    return p;
  }

  /** One record and one Lease per (context, namespace, pipeline): so is one session. */
  private key(plan: Plan): string {
    return `${plan.context}\u0000${plan.namespace}\u0000${plan.pipeline}`;
  }

  /** The session for a target, created on first use. */
  async session(target: RolloutTarget): Promise<{ entry: Entry; plan: Plan; release: () => void }> {
    const pr = makePlan(target.pipeline, target.environment);
    if (!pr.ok) throw new PlanError(pr.message);
    const plan = { ...pr.plan, context: this.contextOf(pr.plan) };
    const key = this.key(plan);
    const p = target.pipeline;
    const origin = `${p.file}\u0000${p.documentIndex}\u0000${target.environment}`;
    const describe = `${p.file || '(unsaved deploy file)'}${p.documentIndex > 0 ? ` (document ${p.documentIndex + 1})` : ''}, environment '${target.environment}'`;
    const owner = this.origins.get(key);
    if (owner && owner.origin !== origin) {
      throw new SharedRecordError(
        `pipeline '${plan.pipeline}' in namespace ${plan.namespace} of context ${plan.context} is already in use from ${owner.describe}; ${describe} maps onto the same record and Lease (kube-delivery-${plan.pipeline}): rename one pipeline (metadata.name) or give the environment its own namespace`,
      );
    }
    let e = this.sessions.get(key);
    if (!e) {
      e = (async () => {
        const ops = this.ops(plan.context);
        const clock = await this.clockFor(plan.context, ops);
        const session = new RolloutSession({ plan, ops, clock, identity: this.opts.identity ?? `kube-delivery:${process.pid}`, leaseDurationMs: this.opts.leaseDurationMs, canDrive: this.opts.canDrive, log: this.opts.log });
        await session.open();
        return { session, refs: 0, ops };
      })();
      this.sessions.set(key, e);
      this.origins.set(key, { origin, describe });
      e.catch(() => this.forget(key));
    }
    const entry = await e;
    entry.refs++;
    let released = false;
    return {
      entry,
      plan,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        // Keep a driving session alive: the run must go on while this service lives.
        if (entry.refs <= 0 && !entry.session.isDriver) {
          this.forget(key);
          void entry.session.dispose();
        }
      },
    };
  }

  private forget(key: string): void {
    this.sessions.delete(key);
    this.origins.delete(key);
  }

  async status(target: RolloutTarget): Promise<RolloutSnapshot> {
    try {
      const { entry, release } = await this.session(target);
      const s = entry.session.snapshot();
      release();
      return s;
    } catch (err) {
      return this.errorSnapshot(target, err);
    }
  }

  private errorSnapshot(target: RolloutTarget, err: unknown): RolloutSnapshot {
    const pr = makePlan(target.pipeline, target.environment);
    const kind = err instanceof PlanError || err instanceof SharedRecordError ? 'invalid' : err instanceof ConnectError ? 'unreachable' : 'other';
    const message = err instanceof Error ? err.message : String(err);
    if (!pr.ok) {
      const env = target.pipeline.environments[0];
      return {
        pipeline: target.pipeline.name,
        environment: target.environment,
        context: env?.context ?? '',
        namespace: env?.namespace ?? '',
        strategy: target.pipeline.strategy.type,
        seq: 0,
        phase: 'idle',
        reason: message,
        updatedAt: new Date().toISOString(),
        stage: { index: 0, count: 0 },
        stages: [],
        weights: { requested: { canary: 0, baseline: 0, current: 100 }, actual: { canary: 0, baseline: 0, current: 100 } },
        versions: [],
        analysis: [],
        tests: [],
        timeline: [],
        events: [],
        actions: { start: { allowed: false, reason: message }, promote: { allowed: false }, promoteFull: { allowed: false }, abort: { allowed: false }, pause: { allowed: false }, resume: { allowed: false }, retry: { allowed: false } },
        history: [],
        error: { kind: 'invalid', message },
      };
    }
    const s = buildSnapshot({ plan: pr.plan, doc: emptyDoc(pr.plan.pipeline), facts: emptyFacts(), now: Date.now(), seq: 0, error: { kind, message } });
    return { ...s, reason: message };
  }

  watch(target: RolloutTarget, listener: (snapshot: RolloutSnapshot) => void): Disposable {
    let disposed = false;
    let off = () => {};
    let release = () => {};
    this.session(target).then(
      (s) => {
        release = s.release;
        if (disposed) return release();
        off = s.entry.session.subscribe(listener);
      },
      (err) => {
        if (!disposed) listener(this.errorSnapshot(target, err));
      },
    );
    return {
      dispose: () => {
        disposed = true;
        off();
        release();
      },
    };
  }

  /**
   * The badge's and status bar's light stream: one ConfigMap watch per (context, namespace) through the
   * same per-context connections the sessions use, instead of a five-watch session per target.
   */
  watchAttention(targets: readonly RolloutTarget[], listener: (entries: AttentionEntry[]) => void): Disposable {
    return streamAttention(
      targets,
      {
        plan: (target) => {
          const pr = makePlan(target.pipeline, target.environment);
          return pr.ok ? { ok: true, plan: { ...pr.plan, context: this.contextOf(pr.plan) } } : pr;
        },
        ops: (context) => {
          try {
            return { ok: true, ops: this.ops(context) };
          } catch (err) {
            return { ok: false, message: err instanceof Error ? err.message : String(err) };
          }
        },
      },
      listener,
    );
  }

  /** The target's session for a request, or the refusal to answer with (errors as values at this edge). */
  private async sessionForAction(target: RolloutTarget): Promise<Awaited<ReturnType<EngineService['session']>> | Extract<ActionResult, { ok: false }>> {
    try {
      return await this.session(target);
    } catch (err) {
      if (err instanceof ConnectError) return { ok: false, code: 'unreachable', message: err.message };
      if (err instanceof PlanError) return { ok: false, code: 'invalid', message: err.message };
      if (err instanceof SharedRecordError) return { ok: false, code: 'conflict', message: err.message };
      return toActError(err);
    }
  }

  async act(target: RolloutTarget, action: RolloutAction, options: ActionOptions = {}): Promise<ActionResult> {
    const pr = makePlan(target.pipeline, target.environment);
    if (!pr.ok) return { ok: false, code: 'invalid', message: pr.message };
    const env = pr.plan.environment;
    if (WRITES.includes(action) && env.protected && options.confirm !== env.name) {
      return { ok: false, code: 'needsConfirmation', message: `environment '${env.name}' is protected: confirm with its name (--confirm ${env.name}) to ${action}` };
    }
    const opened = await this.sessionForAction(target);
    if ('ok' in opened) return opened;
    const s = opened;
    const { entry, plan } = s;
    const actor = options.actor ?? this.opts.identity ?? 'kube-delivery';
    try {
      let out;
      if (action === 'start' || action === 'retry') {
        let image = options.image ?? target.pipeline.image;
        if (action === 'retry') {
          const doc = entry.session.record;
          const last = doc.current ?? undefined;
          if (!last) return { ok: false, code: 'notAllowed', message: 'nothing to retry: no earlier run' };
          if (!isTerminal(last.phase)) return { ok: false, code: 'notAllowed', message: 'a run is in progress' };
          if (last.phase === 'succeeded') return { ok: false, code: 'notAllowed', message: 'the last run succeeded; use start for a new image' };
          image = options.image ?? last.image;
        }
        const after = await this.checkAfter(target.pipeline, plan, image);
        if (after) return after;
        out = await entry.session.start(image, actor, { drive: options.drive !== false });
      } else {
        out = await entry.session.act(action, actor);
      }
      if (!out.ok) return { ok: false, code: out.code, message: out.message };
      return { ok: true, snapshot: entry.session.snapshot() };
    } catch (err) {
      return toActError(err);
    } finally {
      s.release();
    }
  }

  /**
   * Re-runs a test of the current stage as a new Job (the Testing view's "run again"). Same rules as act:
   * a protected environment needs `confirm`, a client that may not write (restricted workspace) is
   * refused; the request goes through the record when another client drives the run.
   */
  async rerunTest(target: RolloutTarget, test: string, options: ActionOptions = {}): Promise<ActionResult> {
    const pr = makePlan(target.pipeline, target.environment);
    if (!pr.ok) return { ok: false, code: 'invalid', message: pr.message };
    const env = pr.plan.environment;
    if (this.opts.canDrive === false) return { ok: false, code: 'notAllowed', message: `this client may not change the cluster (restricted workspace): re-running test '${test}' needs a trusted workspace` };
    if (env.protected && options.confirm !== env.name) {
      return { ok: false, code: 'needsConfirmation', message: `environment '${env.name}' is protected: confirm with its name (--confirm ${env.name}) to re-run test '${test}'` };
    }
    const opened = await this.sessionForAction(target);
    if ('ok' in opened) return opened;
    const s = opened;
    try {
      const out = await s.entry.session.rerunTest(test, options.actor ?? this.opts.identity ?? 'kube-delivery');
      if (!out.ok) return { ok: false, code: out.code, message: out.message };
      return { ok: true, snapshot: s.entry.session.snapshot() };
    } catch (err) {
      return toActError(err);
    } finally {
      s.release();
    }
  }

  /** `after`: the environment it follows must have succeeded with this image. */
  private async checkAfter(p: Pipeline, plan: Plan, image: string): Promise<ActionResult | undefined> {
    const name = plan.environment.after;
    if (!name) return undefined;
    const prev = p.environments.find((e) => e.name === name);
    if (!prev) return { ok: false, code: 'invalid', message: `environment '${plan.environment.name}' runs after '${name}', which is not defined` };
    let ops: KubeOps;
    try {
      // --context overrides this environment's context only; the earlier one is read where it lives.
      ops = this.ops(prev.context);
    } catch (err) {
      return { ok: false, code: 'unreachable', message: `cannot check that '${name}' succeeded first: ${(err as Error).message}` };
    }
    try {
      const cm = await ops.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: prev.namespace, name: plan.names.record });
      const parsed = parseDoc(p.name, cm?.data, `ConfigMap ${prev.namespace}/${plan.names.record}`);
      if (!parsed.ok) return { ok: false, code: 'invalid', message: parsed.message };
      const runs = [...(parsed.doc.current ? [{ image: parsed.doc.current.image, phase: parsed.doc.current.phase }] : []), ...parsed.doc.history];
      if (runs.some((r) => r.phase === 'succeeded' && r.image === image)) return undefined;
      const last = runs[0];
      return { ok: false, code: 'notAllowed', message: `'${plan.environment.name}' runs after '${name}': roll out ${image} to ${name} first (last ${name} run: ${last ? `${last.phase} ${last.image}` : 'none'})` };
    } catch (err) {
      const e = toActError(err);
      return { ok: false, code: e.code === 'conflict' ? 'other' : e.code, message: `cannot check that '${name}' succeeded first: ${e.message}` };
    }
  }

  /** Waits until the sessions this service drives have stopped (their runs ended or were handed over). */
  async drained(): Promise<void> {
    for (const e of this.sessions.values()) {
      const entry = await e.catch(() => undefined);
      if (entry) await entry.session.loopDone;
    }
  }

  /**
   * Stops driving everywhere, the clean way (see RolloutSession.handOver): the steps in flight are
   * recorded and the Leases released, so clients standing by take the runs over at once. For a client
   * about to leave (a CLI returning at a gate or after a request it executed itself); dispose after.
   */
  async handOver(): Promise<void> {
    // Side by side: each waits for its own step in flight, and the editor bounds the whole hand-over.
    await Promise.all(
      [...this.sessions.values()].map(async (e) => {
        const entry = await e.catch(() => undefined);
        if (entry) await entry.session.handOver();
      }),
    );
  }

  /**
   * Stops every session (a driving one releases its Lease) and then closes the connections. The releases
   * go out on those connections, so they are closed only once the releases have landed or
   * `releaseWaitMs` has passed (a cluster that does not answer must not keep them, and the process,
   * alive); closing them at once would cut the releases and leave clients standing by to wait for the
   * Leases to expire. The returned promise resolves when the connections are closed; callers that
   * cannot wait (the interface's dispose is void) may ignore it. Prefer handOver first: it also records
   * the step in flight.
   */
  dispose(): Promise<void> {
    if (this.disposing) return this.disposing;
    const sessions = [...this.sessions.values()];
    const connections = [...this.connections.values()];
    this.sessions.clear();
    this.origins.clear();
    this.connections.clear();
    const released = Promise.allSettled(sessions.map((e) => e.then((x) => x.session.dispose())));
    this.disposing = within(released, this.opts.releaseWaitMs ?? RELEASE_WAIT_MS).then(() => {
      for (const ops of connections) ops.dispose();
    });
    return this.disposing;
  }
  private disposing?: Promise<void>;
}

class ConnectError extends Error {}
class PlanError extends Error {}
/** Two deploy files (or environments) would drive the same record and Lease. */
class SharedRecordError extends Error {}

export function createRolloutService(opts: EngineOptions): EngineService {
  return new EngineService(opts);
}
