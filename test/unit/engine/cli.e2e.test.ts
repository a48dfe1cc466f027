// `kube-delivery rollout` end to end, in subprocesses, against `kube-delivery sandbox --seed examples`:
// every example runs to success (manual gates promoted from a second process), JSON events parse, and
// the exit codes match README.md.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { createClusterRolloutService } from '../../../src/kube';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { examplePipeline, terminal } from './harness';

const ROOT = resolve(__dirname, '../../..');
const EXAMPLES = join(ROOT, 'examples');

/** Whether a process has exited (a zombie not reaped yet counts: it runs no more code). */
function exited(pid: number): boolean {
  try {
    if (existsSync('/proc')) return !existsSync(`/proc/${pid}`) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Waits for a condition with a deadline, checking again after `refresh` (a subprocess query) or 100 ms:
 * what is watched here (another process's exit, another process's lease) sends us no event.
 */
async function eventually(cond: () => boolean, ms: number, refresh?: () => Promise<void>): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    await refresh?.();
    if (cond()) return true;
    if (Date.now() > end) return false;
    if (!refresh) await new Promise((r) => setTimeout(r, 100));
  }
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kube-delivery rollout CLI end to end (subprocesses + sandbox)', function () {
  this.timeout(120_000);
  let dir: string;
  let cli: string;
  let kubeconfig: string;
  let sandbox: ChildProcess;
  /** Processes a test follows with live(): none may outlive the suite when a test fails half-way. */
  const started: ChildProcess[] = [];

  const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
    new Promise((resolveRun) => {
      const p = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: '', ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('exit', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
    });

  const rollout = (verb: string, file: string, extra: string[] = []) => run(['rollout', verb, '-f', join(EXAMPLES, file), '--env', 'staging', '--kubeconfig', kubeconfig, ...extra]);

  /** A process to follow while it runs: wait (with a deadline) for its output to say something. */
  function live(args: string[]) {
    const p = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: '' } });
    let stdout = '';
    let stderr = '';
    let over = false;
    const checks = new Set<() => void>();
    const poke = () => {
      for (const c of [...checks]) c();
    };
    p.stdout.on('data', (d) => {
      stdout += d;
      poke();
    });
    p.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<Result>((resolveDone) =>
      p.on('exit', (code) => {
        over = true;
        poke();
        resolveDone({ code: code ?? -1, stdout, stderr });
      }),
    );
    started.push(p);
    return {
      pid: p.pid!,
      done,
      stdout: () => stdout,
      interrupt: () => p.kill('SIGINT'),
      /** Resolves true once stdout matches, false when the process exited or the deadline passed first. */
      until: (re: RegExp, ms: number) =>
        new Promise<boolean>((resolveUntil) => {
          const finish = (v: boolean) => {
            clearTimeout(timer);
            checks.delete(check);
            resolveUntil(v);
          };
          const check = () => {
            if (re.test(stdout)) finish(true);
            else if (over) finish(false);
          };
          const timer = setTimeout(() => finish(false), ms);
          checks.add(check);
          check();
        }),
    };
  }

  /** A second process that promotes through every manual gate until the driving process exits. */
  async function promoter(file: string, driver: { done: boolean }): Promise<number> {
    let promotes = 0;
    for (let i = 0; i < 60 && !driver.done; i++) {
      const w = await rollout('watch', file, ['--stop-at-gate', '--output', 'json']);
      if (w.code !== 4) continue; // the run had not started yet, or ended
      const p = await rollout('promote', file);
      if (p.code === 0) promotes++;
    }
    return promotes;
  }

  /** A `kube-delivery sandbox` process seeded with the examples, ready when it says so. */
  async function startSandboxProcess(config: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, [cli, 'sandbox', '--seed', EXAMPLES, '--speed', '150', '--port', '0', '--kubeconfig', config], { cwd: ROOT });
    await new Promise<void>((ready, fail) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Press Ctrl-C')) ready();
      });
      child.on('exit', (c) => fail(new Error(`sandbox exited ${c}: ${out}`)));
    });
    return child;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kd-cli-'));
    cli = join(dir, 'cli.js');
    await build({ entryPoints: [join(ROOT, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: cli, logLevel: 'warning' });
    kubeconfig = join(dir, 'kubeconfig');
    sandbox = await startSandboxProcess(kubeconfig);
  });

  after(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    sandbox?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const file of ['simple.deploy.yaml', 'canary-replicas.deploy.yaml', 'canary-istio.deploy.yaml', 'canary-gateway.deploy.yaml', 'blue-green.deploy.yaml']) {
    it(`${file}: start --wait succeeds (exit 0) with gates promoted from a second process; every JSON line parses`, async () => {
      const driver = { done: false };
      const starting = rollout('start', file, ['--wait', '--output', 'json']).finally(() => (driver.done = true));
      const [a, promotes] = await Promise.all([starting, promoter(file, driver)]);
      assert.equal(a.code, 0, `${a.stderr}\n${a.stdout.slice(-2000)}`);
      const lines = a.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; phase?: string; exitCode?: number; weights?: { actual: Record<string, number> } });
      assert.ok(lines.length > 3);
      assert.ok(lines.slice(0, -1).every((l) => l.kind === 'snapshot' && typeof l.phase === 'string'));
      const last = lines[lines.length - 1];
      assert.deepEqual({ kind: last.kind, exitCode: last.exitCode, phase: last.phase }, { kind: 'result', exitCode: 0, phase: 'succeeded' });
      const manual = file === 'canary-replicas.deploy.yaml' || file === 'canary-istio.deploy.yaml' || file === 'canary-gateway.deploy.yaml' ? 1 : 0;
      assert.ok(promotes >= manual, `promoted ${promotes} gates`);
      const st = await rollout('status', file, ['--output', 'json']);
      assert.equal(st.code, 0);
      assert.equal(JSON.parse(st.stdout.trim()).phase, 'succeeded');
    });
  }

  it('start without --wait: a detached background driver runs it to the end after the CLI exited; status shows it', async () => {
    const st = await rollout('start', 'simple.deploy.yaml', ['--image', 'registry.example.com/hello:2.2.0', '--output', 'json']);
    assert.equal(st.code, 0, st.stderr);
    const lines = st.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; runId?: string; phase?: string; driver?: { pid: number; log: string } });
    const result = lines[lines.length - 1];
    const runId = lines[0].runId;
    assert.equal(result.kind, 'result');
    assert.ok(runId && result.driver && result.driver.pid > 0, JSON.stringify(result));
    assert.ok(existsSync(result.driver.log), `log ${result.driver.log}`);
    assert.equal(result.phase, 'progressing', 'the CLI returned while the run goes on');
    // Follow as a read-only observer (it never drives): the background driver must do it all.
    const observer = createClusterRolloutService({ access: { kubeconfigPaths: [kubeconfig] }, identity: 'observer', canDrive: false });
    const holders = new Set<string>();
    const end = await new Promise<RolloutSnapshot>((resolveEnd, reject) => {
      const timer = setTimeout(() => reject(new Error(`run ${runId} did not end within 60 s; drivers seen: ${[...holders]}`)), 60_000);
      const w = observer.watch({ pipeline: examplePipeline('simple.deploy.yaml'), environment: 'staging' }, (s) => {
        if (s.driver?.holder) holders.add(s.driver.holder);
        if (s.runId === runId && terminal(s)) {
          clearTimeout(timer);
          w.dispose();
          resolveEnd(s);
        }
      });
    });
    observer.dispose();
    assert.equal(end.phase, 'succeeded', end.reason);
    assert.ok([...holders].some((h) => h.endsWith(`:${result.driver!.pid}`)), `the background process held the lease: ${[...holders]}`);
    assert.ok(await eventually(() => exited(result.driver!.pid), 20_000), 'the background driver exits once the run ended');
    assert.match(readFileSync(result.driver.log, 'utf8'), new RegExp(`run ${runId} ended: succeeded`));
    const status = await rollout('status', 'simple.deploy.yaml', ['--output', 'json']);
    assert.equal(status.code, 0);
    const snap = JSON.parse(status.stdout.trim()) as RolloutSnapshot;
    assert.deepEqual([snap.runId, snap.phase, snap.toImage], [runId, 'succeeded', 'registry.example.com/hello:2.2.0']);
    rmSync(result.driver.log, { force: true });
  });

  it('rerun-test from a third process reaches the background driver through the record; the verdict shows in status', async () => {
    // The blue-green example, waiting for a human before the switch.
    const own = join(dir, 'bg');
    mkdirSync(join(own, 'k8s'), { recursive: true });
    copyFileSync(join(EXAMPLES, 'k8s/profile.yaml'), join(own, 'k8s/profile.yaml'));
    const file = join(own, 'profile.deploy.yaml');
    writeFileSync(file, readFileSync(join(EXAMPLES, 'blue-green.deploy.yaml'), 'utf8').replace('autoPromote: true', 'autoPromote: false'));
    const cmd = (verb: string, extra: string[] = []) => run(['rollout', verb, '-f', file, '--env', 'staging', '--kubeconfig', kubeconfig, ...extra]);
    const st = await cmd('start', ['--image', 'registry.example.com/profile:4.0.7']);
    assert.equal(st.code, 0, st.stderr);
    const log = /log: (\S+)/.exec(st.stdout)?.[1];
    // The background driver holds the run before a watching client looks, so the watch below only
    // observes (one that finds nobody driving drives itself to the gate and hands the run back to the
    // background driver standing by: a test below covers that path).
    const pid = /\(pid (\d+)\)/.exec(st.stdout)?.[1];
    assert.ok(pid, st.stdout);
    let holder = '';
    const held = await eventually(() => holder.endsWith(`:${pid}`), 60_000, async () => {
      const s = JSON.parse((await cmd('status', ['--output', 'json'])).stdout.trim()) as RolloutSnapshot;
      holder = s.driver?.holder ?? '';
    });
    assert.ok(held, `the background driver ${pid} holds the lease (holder: ${holder || 'none'})`);
    assert.equal((await cmd('watch', ['--stop-at-gate'])).code, 4, 'the run waits at its manual gate');
    const wrong = await cmd('rerun-test', ['nope']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /defines no test 'nope'/);
    const rr = await cmd('rerun-test', ['preview-smoke', '--output', 'json']);
    assert.equal(rr.code, 0, rr.stderr);
    // The driver (another process) picks the request up: wait for attempt 2's verdict, event-driven.
    const observer = createClusterRolloutService({ access: { kubeconfigPaths: [kubeconfig] }, identity: 'observer', canDrive: false });
    const pipeline = examplePipeline('blue-green.deploy.yaml', (t) => t.replace('autoPromote: true', 'autoPromote: false'));
    const verdict = await new Promise<RolloutSnapshot>((resolveV, reject) => {
      const timer = setTimeout(() => reject(new Error('no verdict for attempt 2 within 60 s')), 60_000);
      const w = observer.watch({ pipeline: { ...pipeline, file, manifests: [join(own, 'k8s/profile.yaml')] }, environment: 'staging' }, (s) => {
        if (s.tests.some((t) => t.attempt === 2 && t.status !== 'pending' && t.status !== 'running')) {
          clearTimeout(timer);
          w.dispose();
          resolveV(s);
        }
      });
    });
    observer.dispose();
    assert.deepEqual(verdict.tests.filter((t) => t.name === 'preview-smoke').map((t) => [t.attempt ?? 1, t.status]), [[1, 'passed'], [2, 'passed']]);
    const text = await cmd('status');
    assert.match(text.stdout, /preview-smoke@1#2 passed/);
    assert.equal((await cmd('promote')).code, 0);
    const end = await cmd('watch', ['--output', 'json']);
    assert.equal(end.code, 0, end.stdout.slice(-1000));
    if (log) rmSync(log, { force: true });
  });

  it('the background driver gives up when its cluster is gone for good', async () => {
    const config = join(dir, 'gone.kubeconfig');
    const doomed = await startSandboxProcess(config);
    const st = await run(['rollout', 'start', '-f', join(EXAMPLES, 'canary-replicas.deploy.yaml'), '--env', 'staging', '--kubeconfig', config, '--output', 'json'], { KD_DRIVER_GIVE_UP_MS: '1500' });
    assert.equal(st.code, 0, st.stderr);
    const driver = (JSON.parse(st.stdout.trim().split('\n').pop()!) as { driver: { pid: number; log: string } }).driver;
    doomed.kill('SIGKILL');
    assert.ok(await eventually(() => exited(driver.pid), 60_000), 'the driver exited');
    assert.match(readFileSync(driver.log, 'utf8'), /the cluster has not answered for 2 s/);
    rmSync(driver.log, { force: true });
  });

  it('a background driver stands by while another live client drives, and finishes the run after that client leaves (Ctrl-C)', async () => {
    const file = 'canary-gateway.deploy.yaml';
    const st = await rollout('start', file, ['--no-drive', '--image', 'registry.example.com/search:5.0.8', '--output', 'json']);
    assert.equal(st.code, 0, st.stderr);
    const runId = (JSON.parse(st.stdout.trim().split('\n')[0]) as { runId: string }).runId;
    // A watching client takes the run over (nobody drives it) and keeps it until interrupted.
    const watcher = live(['rollout', 'watch', '-f', join(EXAMPLES, file), '--env', 'staging', '--kubeconfig', kubeconfig, '--output', 'json']);
    assert.ok(await watcher.until(/"self":true/, 30_000), `the watching client drives: ${watcher.stdout().slice(-1000)}`);
    const bg = live(['rollout', '_drive', '-f', join(EXAMPLES, file), '--env', 'staging', '--kubeconfig', kubeconfig, '--run', runId]);
    assert.ok(await bg.until(new RegExp(`:${watcher.pid} drives the run: standing by`), 30_000), `the background driver stands by: ${bg.stdout()}`);
    watcher.interrupt();
    assert.equal((await watcher.done).code, 130);
    assert.ok(await bg.until(/taking over: this process drives the run now/, 60_000), `the background driver takes over: ${bg.stdout().slice(-1500)}`);
    // It goes on to the manual gate of stage 2 by itself; a promote from another process is acted on.
    assert.equal((await rollout('watch', file, ['--stop-at-gate'])).code, 4, 'the run reaches its manual gate');
    assert.equal((await rollout('promote', file)).code, 0);
    const end = await bg.done;
    assert.equal(end.code, 0, end.stdout.slice(-1500) + end.stderr);
    assert.match(end.stdout, new RegExp(`run ${runId} ended: succeeded`));
    const [stoodBy, tookOver] = [end.stdout.indexOf('drives the run: standing by'), end.stdout.indexOf('taking over: this process drives the run now')];
    assert.ok(stoodBy >= 0 && stoodBy < tookOver, 'the log says it stood by, then took over');
  });

  it('after a driving `watch --stop-at-gate` returns at the gate, the background driver takes the run over and acts on a promote', async () => {
    const file = 'canary-replicas.deploy.yaml';
    const st = await rollout('start', file, ['--no-drive', '--image', 'registry.example.com/checkout:1.9.3', '--output', 'json']);
    assert.equal(st.code, 0, st.stderr);
    const runId = (JSON.parse(st.stdout.trim().split('\n')[0]) as { runId: string }).runId;
    const watcher = live(['rollout', 'watch', '-f', join(EXAMPLES, file), '--env', 'staging', '--kubeconfig', kubeconfig, '--stop-at-gate', '--output', 'json']);
    assert.ok(await watcher.until(/"self":true/, 30_000), `the watching client drives: ${watcher.stdout().slice(-1000)}`);
    const bg = live(['rollout', '_drive', '-f', join(EXAMPLES, file), '--env', 'staging', '--kubeconfig', kubeconfig, '--run', runId]);
    // The watcher drove to the gate and leaves: before, it waited there for its own driver loop forever.
    const w = await watcher.done;
    assert.equal(w.code, 4, w.stdout.slice(-1500) + w.stderr);
    // Whether the background driver came up before or after the watcher left, it now drives the run.
    assert.ok(await bg.until(/taking over: this process drives the run now|\[driver\] +driving the run/, 60_000), `the background driver drives: ${bg.stdout().slice(-1500)}`);
    assert.equal((await rollout('promote', file)).code, 0);
    const end = await bg.done;
    assert.equal(end.code, 0, end.stdout.slice(-1500) + end.stderr);
    assert.match(end.stdout, new RegExp(`run ${runId} ended: succeeded`));
    const status = JSON.parse((await rollout('status', file, ['--output', 'json'])).stdout.trim()) as RolloutSnapshot;
    assert.deepEqual([status.runId, status.phase], [runId, 'succeeded']);
  });

  it('start --no-drive only records the run', async () => {
    const st = await rollout('start', 'canary-gateway.deploy.yaml', ['--no-drive', '--image', 'registry.example.com/search:5.0.9']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /a driver \(kube-delivery rollout watch, --wait, or the editor\) advances it/);
    assert.doesNotMatch(st.stdout, /background driver/);
    const ab = await rollout('abort', 'canary-gateway.deploy.yaml', ['--wait']);
    assert.equal(ab.code, 3, ab.stdout.slice(-1500));
  });

  it('a failing canary exits 1; an abort from another process exits 3', async () => {
    const bad = await rollout('start', 'canary-gateway.deploy.yaml', ['--wait', '--image', 'registry.example.com/search:5.0.2-errors']);
    assert.equal(bad.code, 1, bad.stdout.slice(-1500));
    assert.match(bad.stdout, /success rate [\d.]+% < 99%/);
    // Abort from another process while the run waits at the manual gate of stage 2.
    const driver = { done: false };
    const a = rollout('start', 'canary-replicas.deploy.yaml', ['--wait', '--image', 'registry.example.com/checkout:1.9.0']).finally(() => (driver.done = true));
    let gate = -1;
    for (let i = 0; i < 60 && !driver.done && gate !== 4; i++) gate = (await rollout('watch', 'canary-replicas.deploy.yaml', ['--stop-at-gate'])).code;
    assert.equal(gate, 4, 'the run reached its manual gate');
    const ab = await rollout('abort', 'canary-replicas.deploy.yaml');
    assert.equal(ab.code, 0, ab.stderr);
    const res = await a;
    assert.equal(res.code, 3, res.stdout.slice(-1500));
    assert.match(res.stdout, /Aborted/);
  });

  it('usage errors are one line and exit 2; a protected environment needs --confirm (exit 2); an unreachable cluster exits 5', async () => {
    const u = await run(['rollout', 'start', '-f', join(EXAMPLES, 'simple.deploy.yaml'), '--env', 'staging', '--bogus']);
    assert.equal(u.code, 2);
    assert.equal(u.stderr.trim().split('\n').length, 1);
    assert.match(u.stderr, /unknown option '--bogus'/);
    const miss = await run(['rollout', 'start', '-f', join(EXAMPLES, 'simple.deploy.yaml')]);
    assert.equal(miss.code, 2);
    const prot = await run(['rollout', 'start', '-f', join(EXAMPLES, 'simple.deploy.yaml'), '--env', 'production', '--kubeconfig', kubeconfig]);
    assert.equal(prot.code, 2);
    assert.match(prot.stderr, /protected.*--confirm production/);
    const dead = join(dir, 'dead.kubeconfig');
    writeFileSync(dead, 'apiVersion: v1\nkind: Config\ncurrent-context: sandbox\nclusters:\n- name: sandbox\n  cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}\nusers:\n- name: sandbox\n  user: {token: x}\ncontexts:\n- name: sandbox\n  context: {cluster: sandbox, user: sandbox}\n');
    const un = await run(['rollout', 'status', '-f', join(EXAMPLES, 'simple.deploy.yaml'), '--env', 'staging', '--kubeconfig', dead]);
    assert.equal(un.code, 5, un.stderr + un.stdout);
    assert.match(un.stderr, /cannot reach the cluster of context 'sandbox' at http:\/\/127\.0\.0\.1:1/);
  });
});
