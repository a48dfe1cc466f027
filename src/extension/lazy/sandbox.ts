// Bundled alone as dist/lazy-sandbox.js and required only when the user starts the sandbox, so the
// emulator never loads on activation.
import { startSandbox } from '../../sandbox/index';
import { seedFromDirectory } from '../../sandbox/sim/seed';
import type { LazySandboxModule, SandboxLike, StartOptions } from '../sandbox/types';

export const start: LazySandboxModule['start'] = async (options: StartOptions): Promise<SandboxLike> => {
  const [first, ...rest] = options.seed;
  const sandbox = await startSandbox({ port: options.port ?? 0, seed: first, speed: options.speed, contextName: 'sandbox' });
  const problems = [...(sandbox.seedReport?.problems ?? [])];
  const namespaces = new Set(sandbox.seedReport?.namespaces ?? []);
  // The sandbox seeds one directory; deploy files of a workspace may live in several.
  for (const dir of rest) {
    const report = await seedFromDirectory(sandbox.store, dir, sandbox.contextName);
    problems.push(...report.problems);
    report.namespaces.forEach((n) => namespaces.add(n));
  }
  return Object.assign(sandbox, { seeded: { namespaces: [...namespaces], problems } }) as unknown as SandboxLike;
};
