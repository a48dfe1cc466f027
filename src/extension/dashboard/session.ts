// One dashboard's host-side logic, free of `vscode` so unit tests drive it with a fake RolloutService:
// it watches the rollout, sends the webview one full snapshot and then deltas, and handles every message
// the webview posts — validated first (unknown type, unknown rollout, malformed fields and actions the
// engine does not allow are rejected and logged), with the typed confirmation for protected environments.
import type { RolloutService, RolloutTarget } from '../../engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../engine/snapshot';
import { computeDelta, isEmptyDelta, needsFullSnapshot } from '../../webview/delta';
import { keyId, validateWebviewMessage, type HostMessage, type RolloutKey } from '../../webview/protocol';

export interface SessionLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface SessionDeps {
  target: RolloutTarget;
  getService: () => Promise<RolloutService>;
  /** Posts to the webview; resolves false when the webview could not take it (hidden, disposed). */
  post: (msg: HostMessage) => PromiseLike<boolean> | boolean;
  /**
   * Typed confirmation for a protected environment (the same question the tree asks): resolves to the
   * name the user typed, or undefined when cancelled.
   */
  confirm: (environment: string, what: string) => Promise<string | undefined>;
  log: SessionLog;
  actor?: string;
}

/** What happened to one incoming message (returned to tests through the inject hook). */
export type HandleOutcome =
  | { accepted: false; error: string }
  | { accepted: true; type: 'ready' | 'resync' }
  | { accepted: true; type: 'act'; ok: boolean; message: string };

const ACTION_VERB: Record<RolloutAction, string> = {
  start: 'start a rollout',
  promote: 'promote',
  promoteFull: 'promote fully',
  abort: 'abort',
  pause: 'pause',
  resume: 'resume',
  retry: 'retry',
};

export class DashboardSession {
  readonly key: RolloutKey;
  /** Latest snapshot from the engine. */
  private latest: RolloutSnapshot | undefined;
  /** The snapshot the webview holds (base of the next delta); undefined until it said `ready`. */
  private sent: RolloutSnapshot | undefined;
  private webviewReady = false;
  private watch: { dispose(): void } | undefined;
  private disposed = false;
  private generation = 0;
  /** Counters for tests and the log. */
  readonly stats = { full: 0, deltas: 0, rejected: 0 };

  constructor(private readonly deps: SessionDeps) {
    this.key = { pipeline: deps.target.pipeline.name, environment: deps.target.environment };
  }

  get snapshot(): RolloutSnapshot | undefined {
    return this.latest;
  }

  get protectedEnv(): boolean {
    return !!this.deps.target.pipeline.environments.find((e) => e.name === this.deps.target.environment)?.protected;
  }

  /** Subscribes to the engine (again, e.g. after the service was replaced). */
  async start(): Promise<void> {
    this.watch?.dispose();
    this.watch = undefined;
    const gen = ++this.generation;
    let service: RolloutService;
    try {
      service = await this.deps.getService();
    } catch (err) {
      const message = `Cannot reach the rollout engine: ${errorText(err)}`;
      this.deps.log.error(`dashboard ${keyId(this.key)}: ${message}`);
      await this.deps.post({ type: 'unavailable', key: this.key, message });
      return;
    }
    if (this.disposed || gen !== this.generation) return;
    try {
      this.watch = service.watch(this.deps.target, (s) => {
        if (!this.disposed && gen === this.generation) void this.onSnapshot(s);
      });
    } catch (err) {
      const message = `Cannot watch ${keyId(this.key)}: ${errorText(err)}`;
      this.deps.log.error(`dashboard: ${message}`);
      await this.deps.post({ type: 'unavailable', key: this.key, message });
    }
  }

  /** A new snapshot from the engine: a delta against what the webview holds, or a full one. */
  async onSnapshot(s: RolloutSnapshot): Promise<void> {
    // Out-of-order delivery (an action's result racing the watch) must not move the view backwards.
    if (this.latest && this.latest.runId === s.runId && s.seq < this.latest.seq) return;
    this.latest = s;
    await this.flush();
  }

  private async flush(): Promise<void> {
    const s = this.latest;
    if (!s || !this.webviewReady) return;
    const base = this.sent;
    if (needsFullSnapshot(base, s)) {
      await this.sendFull(s);
      return;
    }
    if (base === s) return;
    const delta = computeDelta(base!, s);
    if (isEmptyDelta(delta) && delta.fromSeq === delta.toSeq) return;
    this.sent = s;
    this.stats.deltas++;
    const delivered = await this.deps.post({ type: 'delta', key: this.key, delta });
    // A hidden webview drops messages; it sends `ready` again when it comes back.
    if (!delivered && this.sent === s) this.webviewReady = false;
  }

  private async sendFull(s: RolloutSnapshot): Promise<void> {
    this.sent = s;
    this.stats.full++;
    const delivered = await this.deps.post({ type: 'snapshot', key: this.key, snapshot: s, protectedEnv: this.protectedEnv });
    if (!delivered && this.sent === s) this.webviewReady = false;
  }

  /** Every message from the webview comes through here. */
  async handleMessage(raw: unknown): Promise<HandleOutcome> {
    const v = validateWebviewMessage(raw, { key: this.key, snapshot: this.latest });
    if (!v.ok) {
      this.stats.rejected++;
      this.deps.log.warn(`dashboard ${keyId(this.key)}: rejected message: ${v.error}`);
      // Tell the page when it was a refused action, so the button does not stay "sending…".
      if (isActMessage(raw)) {
        await this.deps.post({ type: 'actionResult', key: this.key, requestId: raw.requestId, action: raw.action, ok: false, message: v.error });
      }
      return { accepted: false, error: v.error };
    }
    const msg = v.value;
    switch (msg.type) {
      case 'ready':
      case 'resync':
        this.webviewReady = true;
        this.sent = undefined; // the page's copy may be trimmed or stale: start over with a full snapshot
        if (this.latest) await this.sendFull(this.latest);
        return { accepted: true, type: msg.type };
      case 'act': {
        const r = await this.act(msg.action);
        await this.deps.post({ type: 'actionResult', key: this.key, requestId: msg.requestId, action: msg.action, ok: r.ok, message: r.message });
        return { accepted: true, type: 'act', ...r };
      }
    }
  }

  private async act(action: RolloutAction): Promise<{ ok: boolean; message: string }> {
    const env = this.deps.target.environment;
    const verb = ACTION_VERB[action];
    let confirm: string | undefined;
    if (this.protectedEnv) {
      confirm = await this.deps.confirm(env, `${verb} ${this.key.pipeline}`);
      if (confirm === undefined) return { ok: false, message: 'cancelled: the environment name was not confirmed' };
    }
    try {
      const service = await this.deps.getService();
      let result = await service.act(this.deps.target, action, { confirm, actor: this.deps.actor });
      if (!result.ok && result.code === 'needsConfirmation' && confirm === undefined) {
        // The engine knows the environment is protected even if our copy of the deploy file did not say so.
        confirm = await this.deps.confirm(env, `${verb} ${this.key.pipeline}`);
        if (confirm === undefined) return { ok: false, message: 'cancelled: the environment name was not confirmed' };
        result = await service.act(this.deps.target, action, { confirm, actor: this.deps.actor });
      }
      if (!result.ok) {
        this.deps.log.warn(`dashboard ${keyId(this.key)}: ${action} refused by the engine (${result.code}): ${result.message}`);
        return { ok: false, message: result.message };
      }
      this.deps.log.info(`dashboard ${keyId(this.key)}: ${action} accepted`);
      await this.onSnapshot(result.snapshot);
      return { ok: true, message: result.snapshot.reason };
    } catch (err) {
      const message = errorText(err);
      this.deps.log.error(`dashboard ${keyId(this.key)}: ${action} failed: ${message}`);
      return { ok: false, message };
    }
  }

  dispose(): void {
    this.disposed = true;
    this.watch?.dispose();
    this.watch = undefined;
  }
}

function isActMessage(raw: unknown): raw is { type: 'act'; requestId: number; action: RolloutAction } {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as Record<string, unknown>;
  return r.type === 'act' && typeof r.requestId === 'number' && Number.isSafeInteger(r.requestId) && typeof r.action === 'string' && ['promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry', 'start'].includes(r.action);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
