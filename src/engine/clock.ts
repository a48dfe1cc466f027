// Time for the engine: injectable so tests run on a virtual clock and the sandbox can run faster than
// real time. The sandbox's clock (src/sandbox/sim/clock.ts) satisfies this shape structurally; the engine
// never imports the sandbox.

export interface Clock {
  /** Milliseconds since the epoch, in the clock's own time. */
  now(): number;
  /** Calls fn once after ms of the clock's time; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Speed relative to wall time, when known (a sped-up sandbox clock); 0 or absent for manual clocks. */
  readonly speed?: number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    // A pending engine timer must never keep a CLI process alive on its own.
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * A clock that only moves when told to: deterministic tests advance it explicitly and every timer due
 * by then fires in order.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  constructor(start = Date.UTC(2026, 0, 1, 10, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn, seq: id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** The time of the earliest pending timer, if any. */
  nextAt(): number | undefined {
    let best: number | undefined;
    for (const t of this.timers.values()) if (best === undefined || t.at < best) best = t.at;
    return best;
  }
  /** Moves time forward by ms, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; seq: number }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

/** Resolves after ms of clock time (used by drivers to wait for the next check; never in tests). */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(h);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A clock running `speed` times faster than the wall clock from `start` (to follow a sped-up sandbox). */
export function scaledClock(start: number, speed: number): Clock {
  const wall0 = Date.now();
  const s = speed > 0 ? speed : 1;
  return {
    speed: s,
    now: () => Math.floor(start + (Date.now() - wall0) * s),
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms / s),
    clearTimeout: (h) => systemClock.clearTimeout(h),
  };
}

/**
 * True when p settled within ms of real time (not a Clock's: a bound on network work such as a Lease
 * release), false after that; rejects when p rejected in time. The timer never holds the process.
 */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), ms);
    (timer as { unref?: () => void }).unref?.();
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
