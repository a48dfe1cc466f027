// `kube-delivery`: the command-line face of the same libraries the extension uses.
import { ExitCode, UsageError, type CliIO, type Command } from './io';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'validate deploy files', load: async () => (await import('./commands/validate')).validate },
  rollout: { summary: 'start, watch and steer rollouts', load: async () => (await import('./commands/rollout')).rollout },
  sandbox: { summary: 'run the local Kubernetes API emulator', load: async () => (await import('./commands/sandbox')).sandbox },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: kube-delivery <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'kube-delivery <command> --help' for a command's options.\n`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${process.env.KD_VERSION ?? '0.1.0'}\n`);
    return ExitCode.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`kube-delivery: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}\n`);
    return ExitCode.usage;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`kube-delivery ${name}: ${err.message}\n`);
      return ExitCode.usage;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`kube-delivery ${name}: ${message}\n`);
    if (process.env.KD_DEBUG) io.stderr(`${(err as Error)?.stack ?? ''}\n`);
    return ExitCode.failed;
  }
}

function processIO(): CliIO {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    cwd: process.cwd(),
    env: process.env,
    interrupted,
  };
}

if (require.main === module) {
  runCli(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`kube-delivery: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = ExitCode.failed;
    },
  );
}
