// Wires the editor surfaces: the Environments tree, rollout commands, CodeLens, gate diagnostics,
// the badge and status bar, the Testing view and the sandbox. Everything cluster-related is created
// lazily: the engine loads when a surface first needs a snapshot, never during activation.
import * as vscode from 'vscode';
import type { DisposableStore } from './lifecycle';
import type { Log } from './log';
import { PipelineIndex } from './model/pipelineIndex';
import { loadParser } from './model/parser';
import { SnapshotStore } from './model/snapshotStore';
import { getClusterView, getRolloutService, initServices, onDidChangeRolloutService, setRolloutServiceFactory } from './services';
import { EnvironmentsTree } from './tree/provider';
import type { Node } from './tree/nodes';
import { registerRolloutCommands } from './commands/rollout';
import { registerMiscCommands } from './commands/misc';
import { setPromptsForTests } from './commands/prompts';
import { RolloutCodeLens, DEPLOY_FILE_SELECTOR } from './codelens/provider';
import { GateDiagnostics } from './diagnostics/gateDiagnostics';
import { RolloutSummary } from './status/statusBar';
import { RolloutTests } from './testing/controller';
import { SandboxManager } from './sandbox/manager';
import { setTrustOverrideForTests, watchTrust } from './trust';

/** Handles host tests and benchmarks reach through the extension's exports (`exports.surfaces`). */
export interface SurfacesApi {
  index: PipelineIndex;
  store: SnapshotStore;
  tree: EnvironmentsTree;
  treeView: vscode.TreeView<Node>;
  summary: RolloutSummary;
  tests: RolloutTests;
  sandbox: SandboxManager;
  getRolloutService: typeof getRolloutService;
  /** Test seams (see trust.ts, commands/prompts.ts, services.ts). */
  setTrusted: typeof setTrustOverrideForTests;
  setPrompts: typeof setPromptsForTests;
  setServiceFactory: typeof setRolloutServiceFactory;
}

export function registerSurfaces(store: DisposableStore, log: Log): SurfacesApi {
  store.add(initServices(log));
  store.add(watchTrust());
  const index = store.add(new PipelineIndex(loadParser, log));
  const snapshots = store.add(
    new SnapshotStore(getRolloutService, {
      debounceMs: 50,
      onError: (t, message) => log.error(`${t.pipeline} → ${t.environment}: ${message}`),
    }),
  );
  store.add(onDidChangeRolloutService(() => snapshots.resetService()));
  // Cluster errors reach the log once each (not on every snapshot that still carries them).
  const lastError = new Map<string, string>();
  store.add({
    dispose: snapshots.onDidChange((keys) => {
      for (const key of keys) {
        const s = snapshots.get(key);
        const msg = s?.error ? `${s.pipeline} → ${s.environment} (${s.context}/${s.namespace}): ${s.error.kind}: ${s.error.message}` : undefined;
        if (msg && lastError.get(key) !== msg) log.error(msg);
        if (!msg && lastError.has(key)) log.info(`${s?.pipeline} → ${s?.environment}: cluster reachable again`);
        if (msg) lastError.set(key, msg);
        else lastError.delete(key);
      }
    }).dispose,
  });

  const tree = store.add(new EnvironmentsTree(index, snapshots, getClusterView));
  const treeView = store.add(vscode.window.createTreeView<Node>('kubeDelivery.environments', { treeDataProvider: tree, showCollapseAll: true }));
  tree.attach(treeView);
  store.add(onDidChangeRolloutService(() => tree.refreshAll()));

  const summary = store.add(new RolloutSummary(index, snapshots, getRolloutService, onDidChangeRolloutService));
  summary.attach(treeView as vscode.TreeView<unknown>);
  // Opening the view is the user's first touch of a cluster: from then on every target is watched.
  if (treeView.visible) summary.start();
  store.add(treeView.onDidChangeVisibility((e) => e.visible && summary.start()));

  const sandbox = store.add(new SandboxManager(log));
  const ctx = { log, index, store: snapshots, tree };
  for (const d of registerRolloutCommands(ctx)) store.add(d);
  for (const d of registerMiscCommands({ ...ctx, sandbox, summary, parse: loadParser })) store.add(d);

  const lens = store.add(new RolloutCodeLens(loadParser, index, snapshots, () => summary.start()));
  store.add(vscode.languages.registerCodeLensProvider(DEPLOY_FILE_SELECTOR, lens));
  store.add(new GateDiagnostics(snapshots, index));
  const tests = store.add(new RolloutTests(snapshots, index, log));

  return {
    index,
    store: snapshots,
    tree,
    treeView,
    summary,
    tests,
    sandbox,
    getRolloutService,
    setTrusted: setTrustOverrideForTests,
    setPrompts: setPromptsForTests,
    setServiceFactory: setRolloutServiceFactory,
  };
}
