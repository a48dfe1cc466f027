import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';

export function memoryIO(cwd = process.cwd()): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    isTTY: false,
    cwd,
    env: {},
    interrupted: new Promise<void>(() => undefined),
  };
}

describe('cli dispatcher', () => {
  it('exits 2 with the list of commands for an unknown command', async () => {
    const io = memoryIO();
    assert.equal(await runCli(['frobnicate'], io), 2);
    assert.match(io.err.join(''), /unknown command 'frobnicate'.*validate.*rollout.*sandbox/);
  });
  it('prints usage and exits 0 on --help', async () => {
    const io = memoryIO();
    assert.equal(await runCli(['--help'], io), 0);
    assert.match(io.out.join(''), /Usage: kube-delivery <command>/);
  });
  it('exits 2 without a command', async () => {
    const io = memoryIO();
    assert.equal(await runCli([], io), 2);
  });
});
