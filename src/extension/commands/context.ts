// What command handlers need, handed over once at activation.
import type { Log } from '../log';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import type { EnvironmentsTree } from '../tree/provider';

export interface CommandContext {
  log: Log;
  index: PipelineIndex;
  store: SnapshotStore;
  tree: EnvironmentsTree;
}
