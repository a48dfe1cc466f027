// Public surface of the sandbox API server (store + HTTP). See store.ts for the store contract and
// server.ts for the hook points the simulation fills.
export { Store, ChangeEvent, objectJson, objectBytes, watchLine, httpChunk } from './store';
export type { KubeObject, ObjectMeta, OwnerReference, EventType, WatchDelivery, Watcher, ListResult, WriteOptions, DeleteOptions, StoreOptions } from './store';
export { ApiError, notFound, conflict, invalid, badRequest, forbidden, alreadyExists } from './errors';
export type { Status, StatusCause } from './errors';
export { RESOURCES, resourceByKey, mustResource, resourceFor, resourceForKind, apiVersionOf } from './resources';
export type { ResourceDef } from './resources';
export { parseLabelSelector, parseFieldSelector, labelSelectorFromObject, labelSelectorString, compileSelectors } from './selectors';
export type { LabelSelectorObject, Selectors } from './selectors';
export { createApiServer, SYSTEM_NAMESPACES } from './server';
export type { ApiServer, ApiServerOptions, ApiServerHooks, ServiceProxyTarget, PodLogRequest, PodLogResult } from './server';
export { noFaults, checkFaults } from './faults';
export type { Faults } from './faults';
export { kubeconfigYaml } from './kubeconfig';
export { humanDuration } from './tables';
