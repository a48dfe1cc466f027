// Activation stays cheap: only contributions and light modules load here. Anything that touches a
// cluster (@kubernetes/client-node, the engine, the sandbox) is required lazily on first use.
import * as vscode from 'vscode';
import { DisposableStore } from './lifecycle';
import { createLog } from './log';
import { registerBasicCommands } from './commands/basic';
import { registerLanguageFeatures } from './language';
import { registerSurfaces, type SurfacesApi } from './surfaces';
import { registerDashboard } from './dashboard';

export interface KubeDeliveryApi {
  /** Milliseconds spent in activate(), for the activation benchmark. */
  readonly activationMs: number;
  /** Names of modules activation loaded from dist/ (tests assert no cluster library is among them). */
  readonly loadedModules: () => string[];
  /** The editor surfaces (tree, store, sandbox...) and their test seams, for host tests and benchmarks. */
  readonly surfaces: SurfacesApi;
}

let store: DisposableStore | undefined;

export function activate(context: vscode.ExtensionContext): KubeDeliveryApi {
  const started = performance.now();
  store = new DisposableStore();
  context.subscriptions.push(store);
  const log = store.add(createLog());
  registerBasicCommands(context, store, log);
  registerLanguageFeatures(context, store, log);
  const surfaces = registerSurfaces(store, log);
  registerDashboard(context, store, log, surfaces.getRolloutService, surfaces.index);
  const activationMs = performance.now() - started;
  log.info(`Kube Delivery activated in ${activationMs.toFixed(1)} ms`);
  return {
    activationMs,
    surfaces,
    loadedModules: () => Object.keys(require.cache).filter((m) => !m.includes('node_modules') || m.includes('kubernetes')),
  };
}

export function deactivate(): void {
  store?.dispose();
  store = undefined;
}
