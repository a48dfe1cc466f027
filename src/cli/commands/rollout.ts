// `kube-delivery rollout`: start, watch and steer rollouts from a terminal or CI, through the same
// engine the extension uses. Live text on a terminal (redrawn at most every 200 ms), plain event lines
// otherwise, NDJSON with --output json (schema in README.md). Exit codes: see EXIT below.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, resolve } from 'node:path';
import { ExitCode, UsageError, type CliIO } from '../io';
import type { Pipeline } from '../../deployfile/model';
import type { ActionResult, RolloutTarget } from '../../engine/api';
import { within } from '../../engine/clock';
import type { EngineService } from '../../engine/service';
import { DRIVE_VERB, startBackgroundDriver } from '../background';
import type { RolloutAction, RolloutSnapshot } from '../../engine/snapshot';

const VERBS = ['start', 'status', 'watch', 'promote', 'abort', 'pause', 'resume', 'retry', 'rerun-test'] as const;
type Verb = (typeof VERBS)[number] | typeof DRIVE_VERB;

export const ROLLOUT_HELP = `Usage: kube-delivery rollout <start|status|watch|promote|abort|pause|resume|retry> -f FILE --env ENV [options]
       kube-delivery rollout rerun-test TEST -f FILE --env ENV [options]

  start      start a rollout of the pipeline's image (or --image) to the environment
  status     print the current state once
  watch      follow the current run (drives it when no other client does) until it ends
  promote    go to the next stage (--full: promote to stable now, skipping the remaining stages)
  abort      send all traffic back to stable and remove the new version
  pause      stop advancing (traffic stays as it is); resume continues
  retry      start again with the image of the last failed or aborted run
  rerun-test run TEST of the current stage again as a new Job (its verdict counts for the stage)

Options:
  -f, --file FILE        deploy file (*.deploy.yaml)
  --env ENV              environment name from the deploy file
  --pipeline NAME        pipeline in the file (needed when it holds several)
  --image IMAGE          start/retry: image overriding the deploy file's
  --wait                 start/retry/promote/abort: wait until the run ends (this process drives it)
  --no-drive             start/retry without --wait: only record the run (by default a detached
                         background driver takes it to its end, standing by while another client
                         drives it; its pid and log file are printed)
  --stop-at-gate         with --wait (and watch): return as soon as the run waits for a human
  --full                 promote: promote fully
  --output text|json     text (default) or one JSON object per state change (NDJSON)
  --kubeconfig PATH      kubeconfig file(s), '${delimiter}'-separated (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME         kubeconfig context (default: the environment's)
  --confirm ENV          required to change a protected environment: its name
  -h, --help             this help

Exit codes: 0 succeeded (or started/requested without --wait), 1 failed or rolled back,
2 usage or validation error, 3 aborted, 4 waiting at a manual gate (--stop-at-gate),
5 cluster unreachable or forbidden. 130 when interrupted (Ctrl-C).
`;

export interface RolloutArgs {
  verb: Verb;
  file: string;
  env: string;
  pipeline?: string;
  image?: string;
  wait: boolean;
  stopAtGate: boolean;
  full: boolean;
  output: 'text' | 'json';
  kubeconfig?: string;
  context?: string;
  confirm?: string;
  /** rerun-test: the test's name. */
  test?: string;
  /** start/retry without --wait: start a background driver (default) or only record the run. */
  drive: boolean;
  /** Internal (background driver): the run to drive. */
  run?: string;
}

export function parseRolloutArgs(argv: string[]): RolloutArgs | 'help' {
  if (argv.includes('-h') || argv.includes('--help')) return 'help';
  const [verb, ...rest] = argv;
  if (!verb) throw new UsageError(`missing subcommand: one of ${VERBS.join(', ')}`);
  if (!(VERBS as readonly string[]).includes(verb) && verb !== DRIVE_VERB) throw new UsageError(`unknown subcommand '${verb}': one of ${VERBS.join(', ')}`);
  const a: Partial<RolloutArgs> = { verb: verb as Verb, wait: false, stopAtGate: false, full: false, output: 'text', drive: true };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || (inline === undefined && v.startsWith('-') && v.length > 1)) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-f':
      case '--file':
        a.file = value();
        break;
      case '--env':
        a.env = value();
        break;
      case '--pipeline':
        a.pipeline = value();
        break;
      case '--image':
        a.image = value();
        break;
      case '--kubeconfig':
        a.kubeconfig = value();
        break;
      case '--context':
        a.context = value();
        break;
      case '--confirm':
        a.confirm = value();
        break;
      case '--output':
      case '-o': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new UsageError(`--output must be text or json, got '${v}'`);
        a.output = v;
        break;
      }
      case '--wait':
        a.wait = true;
        break;
      case '--stop-at-gate':
        a.stopAtGate = true;
        break;
      case '--full':
        a.full = true;
        break;
      case '--no-drive':
        a.drive = false;
        break;
      case '--run':
        if (verb !== DRIVE_VERB) throw new UsageError(`unknown option '${arg}' (see kube-delivery rollout --help)`);
        a.run = value();
        break;
      default:
        if (verb === 'rerun-test' && !arg.startsWith('-') && a.test === undefined) {
          a.test = arg;
          break;
        }
        throw new UsageError(arg.startsWith('-') ? `unknown option '${arg}' (see kube-delivery rollout --help)` : `unexpected argument '${arg}'`);
    }
  }
  if (verb === 'rerun-test' && !a.test) throw new UsageError('rerun-test needs the name of a test of the current stage: rerun-test TEST');
  if (!a.file) throw new UsageError('missing -f FILE (the deploy file)');
  if (!a.env) throw new UsageError('missing --env ENV');
  if (a.full && a.verb !== 'promote') throw new UsageError('--full only goes with promote');
  if (a.image && a.verb !== 'start' && a.verb !== 'retry') throw new UsageError('--image only goes with start or retry');
  if (a.drive === false && ((a.verb !== 'start' && a.verb !== 'retry') || a.wait)) throw new UsageError('--no-drive only goes with start or retry without --wait');
  if (a.stopAtGate && !a.wait && a.verb !== 'watch') throw new UsageError('--stop-at-gate needs --wait');
  if (a.wait && (a.verb === 'status' || a.verb === 'watch' || a.verb === 'pause' || a.verb === 'resume' || a.verb === 'rerun-test')) throw new UsageError(`--wait does not go with ${a.verb}`);
  return a as RolloutArgs;
}

/** Loads the deploy file and picks the pipeline; problems are usage/validation errors (exit 2). */
async function loadPipeline(args: RolloutArgs, io: CliIO): Promise<Pipeline> {
  const path = resolve(io.cwd, args.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { parseDeployFile } = await import('../../deployfile/parse');
  const r = parseDeployFile(text, path);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    const first = errors[0];
    throw new UsageError(`${args.file}:${first.range.start.line + 1}:${first.range.start.character + 1}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more; run kube-delivery validate ${args.file})` : ''}`);
  }
  const names = r.pipelines.map((p) => p.name);
  if (r.pipelines.length === 0) throw new UsageError(`${args.file} holds no pipeline`);
  const p = args.pipeline ? r.pipelines.find((x) => x.name === args.pipeline) : r.pipelines.length === 1 ? r.pipelines[0] : undefined;
  if (!p) throw new UsageError(args.pipeline ? `no pipeline '${args.pipeline}' in ${args.file} (pipelines: ${names.join(', ')})` : `${args.file} holds several pipelines (${names.join(', ')}): pass --pipeline NAME`);
  if (!p.environments.some((e) => e.name === args.env)) throw new UsageError(`pipeline '${p.name}' has no environment '${args.env}' (environments: ${p.environments.map((e) => e.name).join(', ')})`);
  return p;
}

/** The exit code for how a run ended (or waits). */
export function exitFor(s: RolloutSnapshot, stopAtGate: boolean): number | undefined {
  if (s.error && (s.error.kind === 'unreachable' || s.error.kind === 'forbidden') && !s.runId) return ExitCode.unreachable;
  switch (s.phase) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
    case 'rolledBack':
      return ExitCode.failed;
    case 'aborted':
      return ExitCode.aborted;
  }
  if (stopAtGate && (s.phase === 'paused' || (s.phase === 'waiting' && (s.gate?.kind === 'manual' || s.gate?.kind === 'noData')))) return ExitCode.waitingAtGate;
  return undefined;
}

function codeFor(r: ActionResult & { ok: false }): number {
  switch (r.code) {
    case 'unreachable':
    case 'forbidden':
      return ExitCode.unreachable;
    case 'invalid':
    case 'needsConfirmation':
      return ExitCode.usage;
    default:
      return ExitCode.failed;
  }
}

// ---------- rendering ----------

const pct = (w: { canary: number; baseline: number; current: number }, baseline: boolean) => (baseline ? `canary ${w.canary}% · baseline ${w.baseline}% · stable ${w.current}%` : `canary ${w.canary}% · stable ${w.current}%`);

export function renderText(s: RolloutSnapshot): string {
  const lines: string[] = [];
  const baseline = s.versions.some((v) => v.role === 'baseline') || s.weights.requested.baseline > 0;
  lines.push(`${s.pipeline} → ${s.environment} (${s.strategy}${s.router ? `, ${s.router}` : ''}, ${s.context}/${s.namespace})${s.runId ? `  run ${s.runId}` : ''}`);
  if (s.toImage) lines.push(`  image     ${s.fromImage ?? '?'} → ${s.toImage}`);
  // The reason already names the stage while a run is active.
  const stage = /^stage \d+\/\d+/.test(s.reason) ? '' : ` · stage ${Math.min(s.stage.index + 1, s.stage.count)}/${s.stage.count}`;
  lines.push(`  status    ${s.phase.toUpperCase()}${stage} · ${s.reason}`);
  if (s.strategy !== 'simple') lines.push(`  weights   requested ${pct(s.weights.requested, baseline)}  |  actual ${pct(s.weights.actual, baseline)}`);
  if (s.versions.length) lines.push(`  versions  ${s.versions.map((v) => `${v.role}${v.active ? '*' : ''} ${v.deployment} ${v.ready}/${v.desired} ready${v.image ? ` (${v.image.split('/').pop()})` : ''}`).join(' · ')}`);
  if (s.gate) lines.push(`  gate      ${s.gate.kind}: ${s.gate.message}`);
  const lastCheck = s.analysis.length ? s.analysis.filter((m) => m.stage === s.analysis[s.analysis.length - 1].stage && m.check === s.analysis[s.analysis.length - 1].check) : [];
  if (lastCheck.length) lines.push(`  analysis  stage ${lastCheck[0].stage + 1} check ${lastCheck[0].check}: ${lastCheck.map((m) => `${m.verdict.toUpperCase()} ${m.message}`).join(' · ')}`);
  if (s.tests.length) lines.push(`  tests     ${s.tests.map((t) => `${t.name}@${t.stage + 1}${t.attempt ? `#${t.attempt}` : ''} ${t.status}${t.durationMs ? ` (${Math.round(t.durationMs / 1000)}s)` : ''}`).join(' · ')}`);
  const failedTest = s.tests.find((t) => t.status === 'failed' || t.status === 'timedOut');
  if (failedTest?.logExcerpt) lines.push(`  log       ${failedTest.logExcerpt.trim().split('\n').slice(-3).join(' ⏎ ')}`);
  if (s.driver) lines.push(`  driver    ${s.driver.holder}${s.driver.self ? ' (this process)' : ''}`);
  if (s.error) lines.push(`  error     ${s.error.message}`);
  return lines.join('\n') + '\n';
}

function eventLine(at: string, reason: string, message: string): string {
  return `${at.slice(11, 19)} ${reason.padEnd(16)} ${message}\n`;
}

/** Output of a stream of snapshots: TTY redraw (throttled), plain lines, or NDJSON. */
class Printer {
  private lastEvents = 0;
  private lastRun?: string;
  private lastPhase = '';
  private drawnLines = 0;
  private pending?: RolloutSnapshot;
  private timer?: ReturnType<typeof setTimeout>;
  private lastDraw = 0;
  constructor(
    private readonly io: CliIO,
    private readonly json: boolean,
  ) {}

  snapshot(s: RolloutSnapshot): void {
    if (this.json) {
      this.io.stdout(JSON.stringify({ kind: 'snapshot', ...s }) + '\n');
      return;
    }
    if (this.io.isTTY) {
      this.pending = s;
      const since = Date.now() - this.lastDraw;
      if (since >= 200) this.draw();
      else if (!this.timer) this.timer = setTimeout(() => this.draw(), 200 - since);
      return;
    }
    if (s.runId !== this.lastRun) {
      this.lastRun = s.runId;
      this.lastEvents = 0;
      if (s.runId) this.io.stdout(`${s.pipeline} → ${s.environment}: run ${s.runId}${s.fromImage ? ` ${s.fromImage}` : ''} → ${s.toImage}\n`);
    }
    for (const e of s.events.slice(this.lastEvents)) this.io.stdout(eventLine(e.at, e.reason, e.message));
    // Events are capped in the record: follow by count from the end when the window slid.
    this.lastEvents = s.events.length;
    const phase = `${s.phase}|${s.gate?.kind ?? ''}|${s.gate?.message ?? ''}`;
    if (phase !== this.lastPhase) {
      this.lastPhase = phase;
      this.io.stdout(eventLine(s.updatedAt, `[${s.phase}]`, s.reason));
    }
  }

  private draw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.pending;
    if (!s) return;
    this.pending = undefined;
    this.lastDraw = Date.now();
    const text = renderText(s);
    // Move up over the previous block and clear it, then print the new one.
    const up = this.drawnLines ? `\x1b[${this.drawnLines}A\x1b[0J` : '';
    this.io.stdout(up + text);
    this.drawnLines = text.split('\n').length - 1;
  }

  flush(): void {
    if (this.pending) this.draw();
  }

  result(exitCode: number, s?: RolloutSnapshot, message?: string, extra: Record<string, unknown> = {}): void {
    this.flush();
    if (this.json) this.io.stdout(JSON.stringify({ kind: 'result', exitCode, phase: s?.phase, reason: message ?? s?.reason, ...extra }) + '\n');
    else if (message) this.io.stdout(`${message}\n`);
  }

  error(code: string, message: string): void {
    this.flush();
    if (this.json) this.io.stdout(JSON.stringify({ kind: 'error', code, message }) + '\n');
    this.io.stderr(`kube-delivery rollout: ${message}\n`);
  }
}

// ---------- the command ----------

export async function rollout(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseRolloutArgs(argv);
  if (parsed === 'help') {
    io.stdout(ROLLOUT_HELP);
    return ExitCode.ok;
  }
  const args = parsed;
  const pipeline = await loadPipeline(args, io);
  const target: RolloutTarget = { pipeline, environment: args.env };
  const kubeconfigPaths = args.kubeconfig ? args.kubeconfig.split(delimiter).filter(Boolean).map((p) => resolve(io.cwd, p)) : io.env.KUBECONFIG ? io.env.KUBECONFIG.split(delimiter).filter(Boolean) : undefined;
  const { createClusterRolloutService } = await import('../../kube/index');
  const identity = `cli:${hostname()}:${process.pid}`;
  const svc = createClusterRolloutService({ access: { kubeconfigPaths, context: args.context }, identity, canDrive: args.verb !== 'status', log: io.env.KD_DEBUG ? (m) => io.stderr(`[engine] ${m}\n`) : undefined });
  const printer = new Printer(io, args.output === 'json');
  // Engine timers never hold the process; this does, while we wait on purpose.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let code: number | undefined;
  try {
    code = await runVerb(svc, target, args, io, printer);
    return code;
  } finally {
    // A process that drove (a watch returning at a gate or interrupted, a promote that found nobody
    // driving and ran its request itself) leaves the clean way: its last step recorded, the Lease
    // released, so a client standing by (the background driver, the editor) takes over at once rather
    // than when the Lease expires. Not when cut off from the cluster (that would wait on it); after
    // Ctrl-C for a bounded time only (then the Lease simply expires).
    if (code !== undefined && code !== ExitCode.unreachable) await (code === 130 ? within(svc.handOver(), INTERRUPTED_HANDOVER_MS) : svc.handOver()).catch(() => undefined);
    clearInterval(keepAlive);
    svc.dispose();
  }
}

/** How long an interrupted process tries to hand its run over before it just leaves. */
const INTERRUPTED_HANDOVER_MS = 3000;

async function runVerb(svc: EngineService, target: RolloutTarget, args: RolloutArgs, io: CliIO, printer: Printer): Promise<number> {
  if (args.verb === DRIVE_VERB) return driveInBackground(svc, target, args, io, printer);
  if (args.verb === 'status') {
    const s = await svc.status(target);
    if (s.error && (s.error.kind === 'unreachable' || s.error.kind === 'forbidden')) {
      printer.error(s.error.kind, s.error.message);
      return ExitCode.unreachable;
    }
    if (s.error?.kind === 'invalid') {
      printer.error('invalid', s.error.message);
      return ExitCode.usage;
    }
    if (args.output === 'json') printer.snapshot(s);
    else io.stdout(renderText(s));
    return ExitCode.ok;
  }
  if (args.verb === 'rerun-test') {
    if (!svc.rerunTest) throw new Error('this engine cannot re-run tests');
    const r = await svc.rerunTest(target, args.test!, { confirm: args.confirm, actor: `cli:${io.env.USER ?? 'user'}` });
    if (!r.ok) {
      printer.error(r.code, r.message);
      return codeFor(r);
    }
    printer.snapshot(r.snapshot);
    printer.result(ExitCode.ok, r.snapshot, `re-run of ${args.test} requested; its verdict is recorded in the run (kube-delivery rollout status)`);
    return ExitCode.ok;
  }
  if (args.verb !== 'watch') {
    const action: RolloutAction = args.verb === 'promote' && args.full ? 'promoteFull' : (args.verb as RolloutAction);
    const r = await svc.act(target, action, { confirm: args.confirm, image: args.image, actor: `cli:${io.env.USER ?? 'user'}`, drive: action === 'start' || action === 'retry' ? args.wait : undefined });
    if (!r.ok) {
      printer.error(r.code, r.message);
      return codeFor(r);
    }
    if (!args.wait) {
      printer.snapshot(r.snapshot);
      if ((action === 'start' || action === 'retry') && args.drive && r.snapshot.runId) {
        const d = startBackgroundDriver({ file: resolve(io.cwd, args.file), env: target.environment, pipeline: target.pipeline.name, runId: r.snapshot.runId, kubeconfig: args.kubeconfig, context: args.context, cwd: io.cwd, environment: io.env });
        if (d.ok) {
          printer.result(ExitCode.ok, r.snapshot, `started ${r.snapshot.toImage} in ${target.environment}; a background driver (pid ${d.pid}) advances it, log: ${d.log}`, { driver: { pid: d.pid, log: d.log } });
          return ExitCode.ok;
        }
        // The run is recorded: any client can still drive it.
        printer.error('other', `${d.message}; the run is recorded: drive it with kube-delivery rollout watch`);
        return ExitCode.failed;
      }
      const what = action === 'start' || action === 'retry' ? `started ${r.snapshot.toImage} in ${target.environment}; a driver (kube-delivery rollout watch, --wait, or the editor) advances it` : `${args.verb} requested`;
      printer.result(ExitCode.ok, r.snapshot, what);
      return ExitCode.ok;
    }
  }
  return follow(svc, target, args, io, printer);
}

/** Streams snapshots until the run ends (or waits for a human with --stop-at-gate). */
async function follow(svc: EngineService, target: RolloutTarget, args: RolloutArgs, io: CliIO, printer: Printer): Promise<number> {
  let last: RolloutSnapshot | undefined;
  let sawActive = false;
  let code = await new Promise<number>((resolveCode) => {
    let done = false;
    const finish = (c: number) => {
      if (done) return;
      done = true;
      w.dispose();
      resolveCode(c);
    };
    const w = svc.watch(target, (s) => {
      last = s;
      printer.snapshot(s);
      if (s.error && (s.error.kind === 'unreachable' || s.error.kind === 'forbidden') && !s.runId) return finish(ExitCode.unreachable);
      if (s.error?.kind === 'invalid' && !s.runId) return finish(ExitCode.usage);
      const active = s.runId !== undefined && !['succeeded', 'failed', 'rolledBack', 'aborted', 'idle'].includes(s.phase);
      if (active) sawActive = true;
      // watch with nothing running: show the state once and stop.
      if (!active && !sawActive && args.verb === 'watch') return finish(ExitCode.ok);
      const c = exitFor(s, args.stopAtGate);
      if (c !== undefined && (sawActive || args.verb !== 'watch')) finish(c);
    });
    void io.interrupted.then(() => finish(130));
  });
  // Let the run's last record write land before leaving (this process may have been driving), then
  // trust the cluster's record over what this process saw last. At a gate the driver loop never ends on
  // its own (it waits for the human): hand the run over instead of waiting for it.
  if (code !== 130 && code !== ExitCode.unreachable && code !== ExitCode.usage) {
    if (code === ExitCode.waitingAtGate) await svc.handOver();
    else await svc.drained();
    const fresh = await svc.status(target);
    if (!fresh.error && fresh.runId === last?.runId && fresh.phase !== last?.phase) {
      last = fresh;
      printer.snapshot(fresh);
      const c = exitFor(fresh, args.stopAtGate);
      if (c !== undefined) code = c;
      else if (!args.stopAtGate) code = ExitCode.failed;
    }
  }
  printer.result(code, last, code === 130 ? 'interrupted: the run goes on in the cluster; another client (a background driver standing by, the editor, a later watch) takes it over' : undefined);
  return code;
}

/**
 * The background driver (internal verb): drives the recorded run through the Lease until it ends, then
 * lets the last record write land. While another live client holds the Lease (the editor, a `watch` or
 * `--wait` process) it stands by: the session keeps its watches and takes the Lease when that client
 * releases it or lets it expire (the engine's own lease cadence; nothing polls here). It stops when the
 * run ends, when a newer run replaced the one it was started for, when interrupted, and when the cluster
 * has not answered for KD_DRIVER_GIVE_UP_MS.
 */
async function driveInBackground(svc: EngineService, target: RolloutTarget, args: RolloutArgs, io: CliIO, printer: Printer): Promise<number> {
  const { entry, release } = await svc.session(target);
  const session = entry.session;
  io.stdout(`background driver ${process.pid} for ${target.pipeline.name}/${target.environment} run ${args.run ?? '(current)'}\n`);
  const why = await new Promise<{ code: number; message: string; ended?: boolean }>((resolveWhy) => {
    let done = false;
    // subscribe calls back at once, before it returns the unsubscribe function.
    const sub = { off: () => {} };
    const stop = (code: number, message: string, ended = false) => {
      if (done) return;
      done = true;
      if (lost) clearTimeout(lost);
      sub.off();
      resolveWhy({ code, message, ended });
    };
    // Who holds the Lease, as last logged: stand-by and take-over are said once each time they happen.
    let role: 'self' | 'other' | undefined;
    const note = (message: string) => io.stdout(eventLine(new Date(session.now()).toISOString(), '[driver]', message));
    // A cluster gone for good (a CI sandbox torn down) must not leave this process behind forever.
    let lost: ReturnType<typeof setTimeout> | undefined;
    const giveUpMs = Number(io.env.KD_DRIVER_GIVE_UP_MS ?? 10 * 60_000);
    sub.off = session.subscribe((s) => {
      printer.snapshot(s);
      const cut = s.error?.kind === 'unreachable' || s.error?.kind === 'forbidden';
      if (cut && !lost) lost = setTimeout(() => stop(ExitCode.unreachable, `the cluster has not answered for ${Math.round(giveUpMs / 1000)} s (${s.error?.message}): stopping; any client can drive the run once it is back`), giveUpMs);
      if (!cut && lost) {
        clearTimeout(lost);
        lost = undefined;
      }
      if (s.error?.kind === 'invalid') return stop(ExitCode.usage, s.error.message);
      if (args.run && s.runId && s.runId !== args.run) return stop(ExitCode.ok, `run ${args.run} is no longer the current run (now ${s.runId}): stopping`);
      const code = exitFor(s, false);
      if (s.runId && code !== undefined) return stop(code, `run ${s.runId} ended: ${s.phase} · ${s.reason}`, true);
      if (!s.runId && !s.error) return stop(ExitCode.ok, 'no run to drive');
      const live = s.driver && Date.parse(s.driver.expiresAt) > session.now() ? s.driver : undefined;
      if (live && !live.self && role !== 'other') {
        role = 'other';
        note(`${live.holder} drives the run: standing by until it lets go or its lease expires`);
      } else if (live?.self && role !== 'self') {
        note(role === 'other' ? 'taking over: this process drives the run now' : 'driving the run');
        role = 'self';
      }
    });
    if (done) sub.off();
    void io.interrupted.then(() => stop(130, 'interrupted: another client (one standing by, the editor, a later watch) takes the run over'));
  });
  // Let the run's last record write land. Otherwise (a newer run this session may have started driving,
  // no run, interrupted) rollout() hands over on the way out rather than wait for a loop that may never
  // end; not at all when the cluster is gone.
  if (why.ended) await svc.drained();
  release();
  printer.result(why.code, undefined, why.message);
  return why.code;
}
