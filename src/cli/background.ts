// The background driver of `kube-delivery rollout start` without --wait: in CI nobody may be left to
// drive a run that was only recorded, so the CLI starts a detached copy of itself (same Node binary,
// same CLI file, an argv array — never a shell string) running the internal verb DRIVE_VERB. It drives
// the run through the Lease like any other client, stands by while another live client holds the Lease
// (taking over when that client lets go), and exits when the run ends. Its output goes to a log file
// under the OS temp directory.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Internal verb: not in the help, only the CLI itself starts it. */
export const DRIVE_VERB = '_drive';

/** How to start this CLI again: the bundle (dist/cli.js) itself, or main.ts through tsx from sources. */
export function cliCommand(): { command: string; args: string[] } {
  // Inside the esbuild bundle every module's __filename is the bundle.
  if (__filename.endsWith('.js')) return { command: process.execPath, args: [__filename] };
  return { command: process.execPath, args: ['--import', 'tsx', join(__dirname, 'main.ts')] };
}

export interface DriverRequest {
  /** Absolute path of the deploy file. */
  file: string;
  env: string;
  pipeline: string;
  runId: string;
  kubeconfig?: string;
  context?: string;
  cwd: string;
  environment: NodeJS.ProcessEnv;
}

export type DriverStart = { ok: true; pid: number; log: string } | { ok: false; message: string };

const safe = (s: string) => s.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 60);

/** Starts the detached driver; its stdout and stderr go to the returned log file. */
export function startBackgroundDriver(r: DriverRequest): DriverStart {
  const log = join(tmpdir(), `kube-delivery-${safe(r.pipeline)}-${safe(r.env)}-${safe(r.runId)}.log`);
  const { command, args } = cliCommand();
  const argv = [...args, 'rollout', DRIVE_VERB, '-f', r.file, '--env', r.env, '--pipeline', r.pipeline, '--run', r.runId, ...(r.kubeconfig ? ['--kubeconfig', r.kubeconfig] : []), ...(r.context ? ['--context', r.context] : [])];
  let fd: number;
  try {
    fd = openSync(log, 'a', 0o600);
  } catch (err) {
    return { ok: false, message: `cannot open the driver log ${log}: ${(err as Error).message}` };
  }
  try {
    const child = spawn(command, argv, { cwd: r.cwd, env: r.environment, detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
    // A failed spawn reports asynchronously; the caller already told the user where the log is.
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined) return { ok: false, message: `could not start ${command} for the background driver` };
    return { ok: true, pid: child.pid, log };
  } finally {
    closeSync(fd);
  }
}
