// Activation stays cheap: only contributions and light modules load here. Anything that touches a
// cluster (@kubernetes/client-node, the engine, the sandbox) is required lazily on first use.
import * as vscode from 'vscode';
import { DisposableStore } from './lifecycle';
import { createLog } from './log';
import { registerBasicCommands } from './commands/basic';
import { registerLanguageFeatures } from './language';
import { registerSurfaces, type SurfacesApi } from './surfaces';
import { registerDashboard } from './dashboard';
import { shutdownServices } from './services';

// Set by the bundle's first and last lines (scripts/build.mjs): when its code started and ended evaluating.
declare const __kdBundleStart: number | undefined;
declare const __kdBundleEnd: number | undefined;

export interface KubeDeliveryApi {
  /** What activation costs the user: evaluating the bundle plus activate(), in ms (activation benchmark). */
  readonly activationMs: number;
  /** Of which evaluating the bundle. */
  readonly moduleLoadMs: number;
  /** Of which spent in activate() itself. */
  readonly activateCallMs: number;
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
  const ended = performance.now();
  const activateCallMs = ended - started;
  // VS Code creates the extension context (storage round trips) between loading and activating, so the
  // time between the two is VS Code's, not ours: count bundle evaluation and activate() only.
  const moduleLoadMs = typeof __kdBundleStart === 'number' && typeof __kdBundleEnd === 'number' ? __kdBundleEnd - __kdBundleStart : 0;
  const activationMs = moduleLoadMs + activateCallMs;
  log.info(`Kube Delivery activated in ${activationMs.toFixed(1)} ms (module load ${moduleLoadMs.toFixed(1)} ms + activate ${activateCallMs.toFixed(1)} ms)`);
  return {
    activationMs,
    moduleLoadMs,
    activateCallMs,
    surfaces,
    loadedModules: () => Object.keys(require.cache).filter((m) => !m.includes('node_modules') || m.includes('kubernetes')),
  };
}

/**
 * VS Code waits (a few seconds) for the returned promise: the runs this window drives are handed over
 * first — the step in flight recorded, the Leases released — so a client standing by (the CLI's
 * background driver, another window) takes them at once instead of when the Leases expire. Everything
 * else is disposed after that.
 */
export async function deactivate(): Promise<void> {
  const s = store;
  store = undefined;
  try {
    await shutdownServices();
  } finally {
    s?.dispose();
  }
}
