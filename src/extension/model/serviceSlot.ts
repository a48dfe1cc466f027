// The window's one RolloutService over time: created on first use, replaced when the kubeconfig, a
// setting, trust or the sandbox changes, and taken out of use when the extension deactivates. Taking a
// service out of use hands its runs over first (the step in flight recorded, the Leases released) so a
// client standing by — the CLI's background driver, another window — takes them at once instead of when
// the Leases expire, and only then disposes it. Kept free of `vscode` so unit tests can drive it.
import type { RolloutService } from '../../engine/api';
import { within } from '../../engine/clock';

export interface SlotLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface RetireBounds {
  /** How long handOver may take (a step in flight finishing, the release): VS Code gives deactivate seconds. */
  handOverMs: number;
  /** How long dispose may take after that (the engine lets its releases land before closing connections). */
  disposeMs: number;
}

/** Within the few seconds VS Code waits for a deactivate promise, with room for the rest of shutdown. */
export const RETIRE_BOUNDS: RetireBounds = { handOverMs: 3000, disposeMs: 1000 };

export type RetireOutcome = 'handedOver' | 'handOverTimedOut' | 'handOverFailed' | 'noHandOver' | 'neverStarted';

/**
 * Hands the service's runs over (bounded), then disposes it (bounded too, when its dispose returns a
 * promise). Never throws: a service leaving must not stop the rest of shutdown.
 */
export async function retireService(service: RolloutService | Promise<RolloutService>, bounds: RetireBounds = RETIRE_BOUNDS, log?: SlotLog): Promise<RetireOutcome> {
  let svc: RolloutService;
  try {
    svc = await service;
  } catch {
    return 'neverStarted'; // nothing was created, nothing to release
  }
  let outcome: RetireOutcome = 'noHandOver';
  if (svc.handOver) {
    try {
      outcome = (await within(svc.handOver(), bounds.handOverMs)) ? 'handedOver' : 'handOverTimedOut';
    } catch (err) {
      outcome = 'handOverFailed';
      log?.warn(`Handing the rollouts over failed (${err instanceof Error ? err.message : String(err)}); their Leases expire instead`);
    }
    if (outcome === 'handOverTimedOut') log?.warn(`Handing the rollouts over took longer than ${bounds.handOverMs} ms; closing anyway (a Lease not released expires)`);
  }
  try {
    // RolloutService.dispose is void in the contract; the engine's returns a promise (its releases).
    const disposed = (svc.dispose as () => unknown)();
    if (disposed instanceof Promise) await within(disposed, bounds.disposeMs);
  } catch (err) {
    log?.warn(`Closing the rollout engine failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return outcome;
}

export interface ServiceSlotOptions {
  create: () => Promise<RolloutService>;
  bounds?: RetireBounds;
  log?: SlotLog;
  /** A creation failed (the next get tries again). */
  onCreateError?: (err: unknown) => void;
}

export class ServiceSlot {
  private current?: Promise<RolloutService>;
  /** Services being taken out of use: a new one starts after them, so one window never drives twice. */
  private retiring: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ServiceSlotOptions) {}

  /** The current service, created on first use (after any service being retired has finished leaving). */
  get(): Promise<RolloutService> {
    if (this.current) return this.current;
    const before = this.retiring;
    const created = before.then(() => this.opts.create());
    this.current = created;
    // A failed creation must not stick: the next call tries again (e.g. after fixing the kubeconfig).
    created.catch((err: unknown) => {
      this.opts.onCreateError?.(err);
      if (this.current === created) this.current = undefined;
    });
    return created;
  }

  /** Whether a service was asked for and not retired since. */
  get active(): boolean {
    return this.current !== undefined;
  }

  /**
   * Takes the current service out of use: hands its runs over, then disposes it. The next get() creates
   * a new one once this has finished (the same window's identity must not drive from two services).
   * Resolves when every retirement started so far has finished.
   */
  retire(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    if (old) {
      const leaving = retireService(old, this.opts.bounds, this.opts.log).then((outcome) => {
        if (outcome === 'handedOver') this.opts.log?.info('Rollout engine closed: any run this window drove was handed over (Lease released)');
      });
      this.retiring = Promise.all([this.retiring, leaving]).then(() => undefined);
    }
    return this.retiring;
  }
}
