// Scaffold replaced by the validate implementation.
import type { CliIO } from '../io';

export async function validate(_argv: string[], io: CliIO): Promise<number> {
  io.stderr('kube-delivery validate: not available in this build yet\n');
  return 2;
}
