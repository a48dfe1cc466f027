// Scaffold replaced by the sandbox implementation.
import type { CliIO } from '../io';

export async function sandbox(_argv: string[], io: CliIO): Promise<number> {
  io.stderr('kube-delivery sandbox: not available in this build yet\n');
  return 2;
}
