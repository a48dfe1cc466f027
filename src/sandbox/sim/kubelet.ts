// The simulated kubelet: moves every pod through its lifecycle on the sandbox clock, per the
// behaviour its container images select (behaviour.ts): Pending → Running → Ready, crash loops with
// back-off and a rising restartCount, failing readiness, run-to-completion for Job pods. It writes
// pod status through the status subresource, records the kubelet's events and keeps each
// container's log lines for the log endpoint.
import type { KubeObject } from '../api/store';
import type { TimerHandle } from './clock';
import type { ControllerContext } from './controllers';
import type { Behaviour } from './behaviour';
import { type Condition, type Container, rfc3339 } from './k8s';
import { fnv1a32 } from './random';
import { NODES } from './replicaset';
import { hostIPOf } from './nodes';

const MAX_LOG_LINES = 500;
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

export interface LogLine {
  t: number;
  text: string;
}

interface Attempt {
  startedAt: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  lines: LogLine[];
}

interface ContainerRec {
  name: string;
  image: string;
  behaviour: Behaviour;
  state: 'creating' | 'running' | 'backoff' | 'terminated';
  ready: boolean;
  restarts: number;
  attempts: Attempt[];
  containerId: string;
}

interface PodRec {
  ns: string;
  name: string;
  uid: string;
  node: string;
  runToCompletion: boolean;
  restartOnFailure: boolean;
  created: number;
  startTime?: number;
  podIP?: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  containers: ContainerRec[];
  timers: Set<TimerHandle>;
  condTimes: Map<string, { status: string; at: number }>;
  /** Request log ring (first container), filled by the traffic simulator. */
  requests: LogLine[];
  object: KubeObject;
}

export class Kubelet {
  private readonly pods = new Map<string, PodRec>();
  private readonly byName = new Map<string, string>();
  private readonly deferred: (() => void)[] = [];
  private ipCounter = 0;
  /** Round-robin node choice for pods created without a node (kubectl run, Jobs). */
  private nextNode = 0;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly paused: () => boolean,
  ) {}

  stop(): void {
    this.stopped = true;
    for (const rec of this.pods.values()) for (const t of rec.timers) this.ctx.clock.clearTimeout(t);
    this.pods.clear();
    this.byName.clear();
  }

  resume(): void {
    const work = this.deferred.splice(0);
    for (const w of work) w();
  }

  /** Feed from the store's change feed (pods only). */
  observe(old: KubeObject | undefined, pod: KubeObject | undefined): void {
    if (this.stopped) return;
    if (!pod) {
      const uid = old?.metadata.uid;
      const rec = uid ? this.pods.get(uid) : undefined;
      if (rec) {
        for (const t of rec.timers) this.ctx.clock.clearTimeout(t);
        this.pods.delete(uid!);
        this.byName.delete(`${rec.ns}/${rec.name}`);
      }
      return;
    }
    const existing = this.pods.get(pod.metadata.uid!);
    if (existing) {
      existing.object = pod;
      return;
    }
    if (old) return; // a pod we do not track (created before us and already handled)
    const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    this.track(pod, nodeName ?? NODES[this.nextNode++ % NODES.length], !nodeName);
  }

  /** The pod's record, for traffic (request logs) and the log endpoint. */
  record(ns: string, name: string): PodRec | undefined {
    const uid = this.byName.get(`${ns}/${name}`);
    return uid ? this.pods.get(uid) : undefined;
  }

  /** Appends a request log line for a pod (called by the traffic simulator for a sample of requests). */
  logRequest(uid: string, t: number, text: string): void {
    const rec = this.pods.get(uid);
    if (!rec) return;
    rec.requests.push({ t, text });
    if (rec.requests.length > MAX_LOG_LINES) rec.requests.splice(0, rec.requests.length - MAX_LOG_LINES);
  }

  /** Log lines of a container's current (or previous) run, merged with request lines. */
  logs(ns: string, name: string, container: string | undefined, previous: boolean): { lines: LogLine[] } | { error: string; code: number } {
    const rec = this.record(ns, name);
    if (!rec) return { lines: [] };
    const c = container ? rec.containers.find((x) => x.name === container) : rec.containers[0];
    if (!c) return { error: `container ${container} is not valid for pod ${name}`, code: 400 };
    if (previous) {
      const prev = c.attempts.length >= 2 ? c.attempts[c.attempts.length - 2] : undefined;
      if (!prev) return { error: `previous terminated container "${c.name}" in pod "${name}" not found`, code: 400 };
      return { lines: prev.lines };
    }
    const cur = c.attempts[c.attempts.length - 1];
    if (!cur) return { error: `container "${c.name}" in pod "${name}" is waiting to start: ContainerCreating`, code: 400 };
    const reqs = c === rec.containers[0] ? rec.requests.filter((l) => l.t >= cur.startedAt && (cur.finishedAt === undefined || l.t <= cur.finishedAt)) : [];
    return { lines: merge(cur.lines, reqs) };
  }

  private track(pod: KubeObject, node: string, bind: boolean): void {
    const spec = (pod.spec ?? {}) as { containers?: Container[]; restartPolicy?: string };
    const restartPolicy = spec.restartPolicy ?? 'Always';
    const now = this.ctx.clock.now();
    const rec: PodRec = {
      ns: pod.metadata.namespace!,
      name: pod.metadata.name!,
      uid: pod.metadata.uid!,
      node,
      runToCompletion: restartPolicy !== 'Always',
      restartOnFailure: restartPolicy === 'OnFailure',
      created: now,
      phase: 'Pending',
      containers: (spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        behaviour: this.ctx.behaviour.forImage(c.image),
        state: 'creating',
        ready: false,
        restarts: 0,
        attempts: [],
        containerId: '',
      })),
      timers: new Set(),
      condTimes: new Map(),
      requests: [],
      object: pod,
    };
    this.pods.set(rec.uid, rec);
    this.byName.set(`${rec.ns}/${rec.name}`, rec.uid);
    queueMicrotask(() => {
      if (!this.pods.has(rec.uid)) return;
      // As the scheduler's binding does: a pod created without a node gets the one it runs on, so
      // `get pods -o wide`, `--field-selector spec.nodeName=` and `kubectl logs` (which prefers
      // scheduled pods) see it as on a real cluster.
      if (bind) this.bind(rec);
      this.event(rec, 'Normal', 'Scheduled', `Successfully assigned ${rec.ns}/${rec.name} to ${rec.node}`, 'default-scheduler');
      this.write(rec);
    });
    const startDelay = Math.max(0, ...rec.containers.map((c) => c.behaviour.startDelayMs));
    this.after(rec, startDelay, () => this.startPod(rec));
  }

  private after(rec: PodRec, ms: number, fn: () => void): void {
    const handle = this.ctx.clock.setTimeout(() => {
      rec.timers.delete(handle);
      if (!this.pods.has(rec.uid)) return;
      if (this.paused()) {
        this.deferred.push(() => this.pods.has(rec.uid) && fn());
        return;
      }
      fn();
    }, ms);
    rec.timers.add(handle);
  }

  private startPod(rec: PodRec): void {
    const now = this.ctx.clock.now();
    rec.startTime = rec.created;
    rec.podIP = `10.244.${1 + NODES.indexOf(rec.node)}.${(this.ipCounter++ % 250) + 2}`;
    rec.phase = 'Running';
    for (const c of rec.containers) {
      this.event(rec, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
      this.event(rec, 'Normal', 'Created', `Created container ${c.name}`, 'kubelet');
      this.startContainer(rec, c, now);
    }
    this.write(rec);
  }

  private startContainer(rec: PodRec, c: ContainerRec, now: number): void {
    const b = c.behaviour;
    c.state = 'running';
    c.ready = false;
    c.containerId = `containerd://${(fnv1a32(`${rec.uid}/${c.name}/${c.restarts}`) >>> 0).toString(16).padStart(8, '0')}${'0'.repeat(56)}`;
    const attempt: Attempt = { startedAt: now, lines: startupLines(rec, c, now) };
    c.attempts.push(attempt);
    if (c.attempts.length > 5) c.attempts.splice(0, c.attempts.length - 5);
    this.event(rec, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    if (b.crash) {
      this.after(rec, b.crashAfterMs, () => this.containerExit(rec, c, b.crashExitCode, 'Error', crashLines(b)));
      return;
    }
    if (rec.runToCompletion) {
      const ok = b.jobSucceeds;
      this.after(rec, b.jobDurationMs, () => this.containerExit(rec, c, ok ? 0 : 1, ok ? 'Completed' : 'Error', jobLines(rec, c, ok)));
      return;
    }
    if (b.unready) {
      this.after(rec, b.readyDelayMs, () => {
        this.event(rec, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 'kubelet');
      });
      return;
    }
    this.after(rec, b.readyDelayMs, () => {
      c.ready = true;
      this.write(rec);
    });
  }

  private containerExit(rec: PodRec, c: ContainerRec, exitCode: number, reason: string, lines: string[]): void {
    const now = this.ctx.clock.now();
    const attempt = c.attempts[c.attempts.length - 1];
    attempt.finishedAt = now;
    attempt.exitCode = exitCode;
    attempt.reason = reason;
    for (const l of lines) attempt.lines.push({ t: now, text: l });
    c.ready = false;
    const restart = !rec.runToCompletion || (rec.restartOnFailure && exitCode !== 0);
    if (!restart) {
      c.state = 'terminated';
      if (rec.containers.every((x) => x.state === 'terminated')) {
        rec.phase = rec.containers.every((x) => x.attempts[x.attempts.length - 1]?.exitCode === 0) ? 'Succeeded' : 'Failed';
      }
      this.write(rec);
      return;
    }
    c.state = 'backoff';
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(10, c.restarts));
    this.event(rec, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet');
    this.write(rec);
    this.after(rec, delay, () => {
      c.restarts++;
      this.startContainer(rec, c, this.ctx.clock.now());
      this.write(rec);
    });
  }

  private event(rec: PodRec, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    if (!this.ctx.podEvents && type === 'Normal') return;
    const obj = this.ctx.store.tryGet('pods', rec.ns, rec.name);
    if (!obj) return;
    this.ctx.events.record(obj, type, reason, message, component === 'kubelet' ? { component, host: rec.node } : { component });
  }

  private cond(rec: PodRec, type: string, ok: boolean, now: number, reason?: string, message?: string): Condition {
    const statusStr = ok ? 'True' : 'False';
    const prev = rec.condTimes.get(type);
    let at = now;
    if (prev && prev.status === statusStr) at = prev.at;
    else rec.condTimes.set(type, { status: statusStr, at: now });
    const c: Condition = { type, status: statusStr, lastProbeTime: null, lastTransitionTime: rfc3339(at) };
    if (!ok && reason) {
      c.reason = reason;
      if (message) c.message = message;
    }
    return c;
  }

  private bind(rec: PodRec): void {
    if (this.stopped) return;
    try {
      this.ctx.store.modify('pods', rec.ns, rec.name, (draft) => {
        const spec = (draft.spec ??= {}) as { nodeName?: string };
        if (spec.nodeName) return false;
        spec.nodeName = rec.node;
      });
    } catch {
      // Deleted meanwhile: nothing to do.
    }
  }

  private write(rec: PodRec): void {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    const running = rec.phase !== 'Pending';
    const allReady = rec.containers.length > 0 && rec.containers.every((c) => c.ready);
    const notReady = rec.containers.filter((c) => !c.ready).map((c) => c.name);
    const completed = rec.phase === 'Succeeded' || rec.phase === 'Failed';
    const notReadyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
    const notReadyMsg = completed ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
    const conditions: Condition[] = [
      this.cond(rec, 'PodReadyToStartContainers', running, now),
      this.cond(rec, 'Initialized', true, now),
      this.cond(rec, 'Ready', allReady, now, notReadyReason, notReadyMsg),
      this.cond(rec, 'ContainersReady', allReady, now, notReadyReason, notReadyMsg),
      this.cond(rec, 'PodScheduled', true, now),
    ];
    const hostIP = hostIPOf(rec.node);
    const status: Record<string, unknown> = {
      phase: rec.phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      ...(rec.podIP ? { podIP: rec.podIP, podIPs: [{ ip: rec.podIP }] } : {}),
      startTime: rfc3339(rec.created),
      containerStatuses: rec.containers.map((c) => containerStatus(rec, c)),
      qosClass: 'BestEffort',
    };
    try {
      this.ctx.store.modify('pods', rec.ns, rec.name, (draft) => {
        draft.status = status;
      }, { subresource: 'status' });
    } catch {
      // Deleted meanwhile: nothing to do.
    }
  }
}

function containerStatus(rec: PodRec, c: ContainerRec): Record<string, unknown> {
  const cur = c.attempts[c.attempts.length - 1];
  const prev = c.attempts.length >= 2 ? c.attempts[c.attempts.length - 2] : undefined;
  const terminated = (a: Attempt) => ({
    terminated: { exitCode: a.exitCode ?? 0, reason: a.reason ?? 'Completed', startedAt: rfc3339(a.startedAt), finishedAt: rfc3339(a.finishedAt ?? a.startedAt), containerID: c.containerId },
  });
  let state: Record<string, unknown>;
  let lastState: Record<string, unknown> = {};
  switch (c.state) {
    case 'creating':
      state = { waiting: { reason: 'ContainerCreating' } };
      break;
    case 'running':
      state = { running: { startedAt: rfc3339(cur!.startedAt) } };
      if (prev) lastState = terminated(prev);
      break;
    case 'backoff':
      state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(10, c.restarts)) / 1000}s restarting failed container=${c.name} pod=${rec.name}_${rec.ns}(${rec.uid})` } };
      lastState = terminated(cur!);
      break;
    case 'terminated':
      state = terminated(cur!);
      if (prev) lastState = terminated(prev);
      break;
  }
  return {
    name: c.name,
    state,
    lastState,
    ready: c.ready,
    restartCount: c.restarts,
    image: c.image,
    imageID: `${c.image.split(':')[0]}@sha256:${fnv1a32(c.image).toString(16).padStart(8, '0').repeat(8)}`,
    ...(c.state !== 'creating' ? { containerID: c.containerId } : {}),
    started: c.state === 'running',
  };
}

function startupLines(rec: PodRec, c: ContainerRec, now: number): LogLine[] {
  if (rec.runToCompletion) {
    const spec = (rec.object.spec ?? {}) as { containers?: (Container & { command?: string[]; args?: string[] })[] };
    const sc = spec.containers?.find((x) => x.name === c.name);
    const cmd = [...(sc?.command ?? []), ...(sc?.args ?? [])].join(' ') || c.image;
    return [{ t: now, text: `+ ${cmd}` }];
  }
  return [
    { t: now, text: `level=info msg="starting" image=${c.image} container=${c.name} pod=${rec.name}` },
    { t: now, text: `level=info msg="listening" addr=:8080` },
  ];
}

function crashLines(b: Behaviour): string[] {
  return [
    b.crashMessage,
    '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6a2f1c]',
    '',
    'goroutine 1 [running]:',
    'main.(*Server).loadConfig(0x0)',
    '\t/app/server.go:42 +0x1c',
  ];
}

function jobLines(rec: PodRec, c: ContainerRec, ok: boolean): string[] {
  const spec = (rec.object.spec ?? {}) as { containers?: (Container & { env?: { name: string; value?: string }[] })[] };
  const env = spec.containers?.find((x) => x.name === c.name)?.env ?? [];
  const target = env.find((e) => /URL|TARGET|HOST/i.test(e.name))?.value ?? 'http://localhost';
  if (ok) {
    return [
      `> GET ${target}/healthz`,
      '< HTTP/1.1 200 OK',
      '{"status":"ok"}',
      'PASS: all checks passed',
    ];
  }
  return [
    `> GET ${target}/healthz`,
    '< HTTP/1.1 500 Internal Server Error',
    `curl: (22) The requested URL returned error: 500`,
    c.behaviour.jobFailMessage || 'FAIL: the test run failed',
  ];
}

function merge(a: LogLine[], b: LogLine[]): LogLine[] {
  if (!b.length) return a;
  return [...a, ...b].sort((x, y) => x.t - y.t);
}
