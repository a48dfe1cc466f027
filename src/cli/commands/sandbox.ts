// `kube-delivery sandbox`: runs the local Kubernetes API emulator until interrupted. Writes a
// kubeconfig of its own (never merged into another file), prints where it is and the URL, and seeds
// namespaces and apps from deploy files (default: ./examples when present).
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { ExitCode, UsageError, type CliIO } from '../io';
import { startSandbox } from '../../sandbox/index';

const HELP = `Usage: kube-delivery sandbox [options]

Runs a local Kubernetes API server emulator with simulated controllers, pods, traffic and
Prometheus metrics, until Ctrl-C.

Options:
  --port N           TCP port (default 0: any free port)
  --host ADDR        interface to bind (default 127.0.0.1)
  --kubeconfig PATH  where to write the kubeconfig (default ~/.kube-delivery/sandbox.kubeconfig)
  --context NAME     kubeconfig context name (default sandbox)
  --speed N          clock speed factor (default 1; 20 plays ten minutes in thirty seconds)
  --seed DIR         seed from the *.deploy.yaml files in DIR (default ./examples when present)
  --no-seed          start empty
  --rps N            simulated requests per second per service or route (default 50)
  --tls              serve HTTPS with a self-signed certificate made at start (the kubeconfig
                     trusts it); kubectl then speaks HTTP/2, as against a real cluster
  -h, --help         show this help
`;

export interface SandboxArgs {
  port: number;
  host: string;
  kubeconfigPath?: string;
  context: string;
  speed: number;
  seed?: string;
  noSeed: boolean;
  rps?: number;
  tls: boolean;
  help: boolean;
}

export function parseSandboxArgs(argv: string[]): SandboxArgs {
  const a: SandboxArgs = { port: 0, host: '127.0.0.1', context: 'sandbox', speed: 1, noSeed: false, tls: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const number = (what: string, ok: (n: number) => boolean): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`${flag}: expected ${what}, got '${raw}'`);
      return n;
    };
    switch (flag) {
      case '--port':
        a.port = number('a port number 0-65535', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
        break;
      case '--host':
        a.host = value();
        break;
      case '--kubeconfig':
        a.kubeconfigPath = value();
        break;
      case '--context':
        a.context = value();
        if (!/^[A-Za-z0-9][-A-Za-z0-9_.@]*$/.test(a.context)) throw new UsageError(`--context: '${a.context}' is not a usable context name`);
        break;
      case '--speed':
        a.speed = number('a positive number', (n) => n > 0 && n <= 10_000);
        break;
      case '--seed':
        a.seed = value();
        break;
      case '--no-seed':
        a.noSeed = true;
        break;
      case '--rps':
        a.rps = number('a number of requests per second >= 0', (n) => n >= 0 && n <= 100_000);
        break;
      case '--tls':
        a.tls = true;
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (see 'kube-delivery sandbox --help')`);
    }
  }
  return a;
}

export async function sandbox(argv: string[], io: CliIO): Promise<number> {
  const args = parseSandboxArgs(argv);
  if (args.help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const home = io.env.HOME || io.env.USERPROFILE || os.homedir();
  const kubeconfigPath = path.resolve(io.cwd, args.kubeconfigPath ?? (home ? path.join(home, '.kube-delivery', 'sandbox.kubeconfig') : path.join(os.tmpdir(), 'kube-delivery-sandbox.kubeconfig')));
  let seed: string | undefined;
  if (!args.noSeed) {
    if (args.seed) {
      seed = path.resolve(io.cwd, args.seed);
      if (!existsSync(seed)) throw new UsageError(`--seed: directory '${args.seed}' does not exist`);
    } else if (existsSync(path.join(io.cwd, 'examples'))) seed = path.join(io.cwd, 'examples');
  }
  const sb = await startSandbox({
    port: args.port,
    host: args.host,
    speed: args.speed,
    seed,
    contextName: args.context,
    kubeconfigPath,
    trafficRps: args.rps,
    tls: args.tls,
    onError: (err, where) => {
      if (io.env.KD_DEBUG) io.stderr(`sandbox: ${where}: ${(err as Error)?.stack ?? String(err)}\n`);
    },
  });
  io.stdout(`Sandbox cluster listening on ${sb.url}\n`);
  io.stdout(`Kubeconfig: ${kubeconfigPath} (context ${args.context})\n`);
  io.stdout(`  export KUBECONFIG=${kubeconfigPath}\n`);
  if (sb.ca) io.stdout('TLS: a self-signed certificate made for this run; the kubeconfig trusts it (certificate-authority-data)\n');
  io.stdout(`Prometheus: ${sb.prometheusUrl}\n`);
  io.stdout(`Admin: ${sb.url}/admin/ (faults, behaviour, clock, traffic)\n`);
  if (args.speed !== 1) io.stdout(`Clock speed: ${args.speed}x\n`);
  if (sb.seedReport) {
    const r = sb.seedReport;
    io.stdout(`Seeded from ${seed}: ${r.namespaces.length} namespace(s) [${r.namespaces.join(', ')}], ${r.created.length} object(s)\n`);
    for (const p of r.problems) io.stderr(`seed: ${p}\n`);
  }
  io.stdout('Press Ctrl-C to stop.\n');
  await io.interrupted;
  await sb.close();
  io.stdout('Sandbox stopped.\n');
  return ExitCode.ok;
}
