// Scaffold replaced by the rollout implementation.
import type { CliIO } from '../io';

export async function rollout(_argv: string[], io: CliIO): Promise<number> {
  io.stderr('kube-delivery rollout: not available in this build yet\n');
  return 2;
}
