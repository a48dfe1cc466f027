// Bundled alone as dist/lazy-engine.js and required on first use of a cluster, so activation never
// loads the engine or @kubernetes/client-node.
import type { ClusterAccess, RolloutService } from '../../engine/api';
import { createClusterRolloutService } from '../../kube/index';
import type { ServiceFactoryOptions } from '../services';

export function createRolloutService(access: ClusterAccess, options: ServiceFactoryOptions): RolloutService {
  return createClusterRolloutService({
    access,
    // The window's identity in the Lease and the record's events; unique per window so two windows of
    // the same user are a driver and an observer, not the same driver twice.
    identity: `${options.actor}:${process.pid}`,
    canDrive: options.canDrive,
    log: (message) => options.log.debug(message),
  });
}
