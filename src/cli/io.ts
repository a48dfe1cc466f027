// What a CLI command may touch of the outside world, so commands are testable in-process.
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (live redraw allowed). */
  isTTY: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user interrupts (SIGINT/SIGTERM); long-running commands stop on it. */
  interrupted: Promise<void>;
}

/** Exit codes shared by every command (documented in README). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  aborted: 3,
  waitingAtGate: 4,
  unreachable: 5,
} as const;

/** A usage error: printed as one line, exit 2, never a stack trace. */
export class UsageError extends Error {}

export type Command = (argv: string[], io: CliIO) => Promise<number>;
