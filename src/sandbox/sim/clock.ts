// The one notion of time every simulated thing (controllers, pods, traffic, metrics) and the engine
// share. Dependency-free so any layer can import it. Two implementations:
// - RealClock: wall time scaled by a speed factor (speed 20 plays a 10-minute canary in 30 s). Time
//   starts at the wall time of creation and runs `speed` times faster from there.
// - ManualClock: virtual time that moves only when a test calls `advance(ms)`, firing due timers in
//   time order, so tests are deterministic and fast.

export interface TimerHandle {
  /** Opaque identity; pass it back to clearTimeout. */
  readonly id: number;
}

export interface Clock {
  /** Current time in milliseconds since the Unix epoch, in the clock's own (possibly scaled) time. */
  now(): number;
  /** Run `fn` once after `ms` of clock time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Run `fn` every `ms` of clock time until cleared. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /** Resolves after `ms` of clock time. */
  sleep(ms: number): Promise<void>;
  /** Clock speed relative to wall time (1 = real time; manual clocks report 0). */
  readonly speed: number;
}

/** Wall-clock time scaled by `speed`. */
export class RealClock implements Clock {
  private readonly startWall: number;
  private readonly startClock: number;
  private nextId = 1;
  private readonly timers = new Map<number, ReturnType<typeof globalThis.setTimeout>>();

  constructor(readonly speed = 1, start?: number) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`clock speed must be a positive number, got ${speed}`);
    this.startWall = Date.now();
    this.startClock = start ?? this.startWall;
  }

  now(): number {
    return Math.floor(this.startClock + (Date.now() - this.startWall) * this.speed);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = globalThis.setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms / this.speed));
    // Simulation timers must never keep a process alive on their own.
    t.unref?.();
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t !== undefined) globalThis.clearTimeout(t);
    this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = globalThis.setInterval(fn, Math.max(1, ms / this.speed));
    t.unref?.();
    this.timers.set(id, t);
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t !== undefined) globalThis.clearInterval(t);
    this.timers.delete(handle.id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Cancel every pending timer (used on shutdown). */
  dispose(): void {
    for (const t of this.timers.values()) globalThis.clearTimeout(t);
    this.timers.clear();
  }
}

interface ManualTimer {
  id: number;
  due: number;
  /** Insertion order breaks ties so timers due at the same instant fire in the order they were set. */
  seq: number;
  fn: () => void;
  every?: number;
}

/** A binary min-heap of timers ordered by (due, seq); cancelled timers are skipped lazily. */
class TimerHeap {
  private readonly items: ManualTimer[] = [];

  push(t: ManualTimer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  peek(): ManualTimer | undefined {
    return this.items[0];
  }

  pop(): ManualTimer | undefined {
    const a = this.items;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: ManualTimer, y: ManualTimer): boolean {
  return x.due < y.due || (x.due === y.due && x.seq < y.seq);
}

/** Virtual time for deterministic tests. Nothing happens until `advance`. */
export class ManualClock implements Clock {
  readonly speed = 0;
  private current: number;
  private nextId = 1;
  private seq = 0;
  /** Live timers by id; the heap may still hold cancelled ones, skipped when they surface. */
  private readonly timers = new Map<number, ManualTimer>();
  private readonly heap = new TimerHeap();

  constructor(start = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t: ManualTimer = { id, due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.set(id, t);
    this.heap.push(t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const every = Math.max(1, ms);
    const id = this.nextId++;
    const t: ManualTimer = { id, due: this.current + every, seq: this.seq++, fn, every };
    this.timers.set(id, t);
    this.heap.push(t);
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Number of pending timers (for tests and diagnostics). */
  pending(): number {
    return this.timers.size;
  }

  /** Time of the next due timer, if any. */
  nextDue(): number | undefined {
    return this.live()?.due;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due in order of due time. After each
   * timer the event loop is given a turn so promise chains and I/O callbacks started by it (store
   * writes, change feeds) settle before the next timer fires, as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms);
    await settle();
    for (;;) {
      const next = this.live();
      if (!next || next.due > target) break;
      this.heap.pop();
      this.current = Math.max(this.current, next.due);
      if (next.every !== undefined) {
        // Re-armed as a fresh heap entry; the id stays the same so clearInterval still works.
        const again: ManualTimer = { ...next, due: next.due + next.every, seq: this.seq++ };
        this.timers.set(next.id, again);
        this.heap.push(again);
      } else {
        this.timers.delete(next.id);
      }
      next.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Advance in steps of `stepMs` until `condition()` holds or `maxMs` of clock time passed; returns whether it held. */
  async advanceUntil(condition: () => boolean, maxMs: number, stepMs = 1000): Promise<boolean> {
    const end = this.current + maxMs;
    while (!condition()) {
      if (this.current >= end) return false;
      await this.advance(Math.min(stepMs, end - this.current));
    }
    return true;
  }

  /** The earliest timer still live (drops cancelled or superseded heap entries on the way). */
  private live(): ManualTimer | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return undefined;
      if (this.timers.get(top.id) === top) return top;
      this.heap.pop();
    }
  }
}

/** Let queued microtasks and immediate callbacks run (a few rounds, since settling can enqueue more). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function isManualClock(clock: Clock): clock is ManualClock {
  return clock instanceof ManualClock;
}
