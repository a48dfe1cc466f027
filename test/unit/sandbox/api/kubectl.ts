// Runs the real kubectl (1.32 launcher installed on every machine here) against a sandbox server, with
// a written kubeconfig and a fresh discovery cache directory per suite.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  run(args: string[], input?: string): Promise<KubectlResult>;
  /** Runs and fails the test with kubectl's stderr when the exit code is not 0. */
  ok(args: string[], input?: string): Promise<string>;
  spawn(args: string[]): ChildProcess;
  dir: string;
  cleanup(): void;
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-kubectl-'));
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
  const base = ['--kubeconfig', file, '--cache-dir', path.join(dir, 'cache'), '--request-timeout', '20s'];
  const env = { ...process.env, KUBECONFIG: file, HOME: dir };
  const run = (args: string[], input?: string) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile('kubectl', [...base, ...args], { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  return {
    dir,
    run,
    async ok(args, input) {
      const r = await run(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    spawn: (args) => spawn('kubectl', [...base, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Collects a child's stdout; `until` resolves once `pred` holds on everything read so far. */
export function collect(child: ChildProcess): { text(): string; until(pred: (out: string) => boolean, ms?: number): Promise<string> } {
  let out = '';
  let err = '';
  let exited: number | null | undefined;
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', (code) => {
    exited = code;
    for (const w of [...waiters]) w();
  });
  return {
    text: () => out,
    until: (pred, ms = 15000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pred(out)) done();
          else if (exited !== undefined) done(new Error(`kubectl exited ${exited} before the expected output:\n${out}\n${err}`));
        };
        const timer = setTimeout(() => done(new Error(`timed out waiting for kubectl output; got:\n${out}\n${err}`)), ms);
        const done = (e?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve(out);
        };
        waiters.add(check);
        check();
      }),
  };
}
