// Registers the rollout dashboard: the `kubeDelivery.openDashboard` command (argument
// `{pipeline, environment, file}` from the tree/CodeLens, or a QuickPick from the palette), the panel
// serializer that restores dashboards after a window reload, and two internal commands the host tests
// use (not contributed, so they never show in the palette).
import * as vscode from 'vscode';
import type { RolloutService } from '../../engine/api';
import type { Pipeline } from '../../deployfile/model';
import { confirmProtected } from '../commands/confirm';
import type { DisposableStore } from '../lifecycle';
import type { Log } from '../log';
import { onDidChangeRolloutService } from '../services';
import { DashboardManager, VIEW_TYPE, type DashboardOptions } from './manager';

/** The workspace's pipeline index (the tree's), when the caller has one. */
export interface PipelineSource {
  ready(): Promise<void>;
  pipelines(): Pipeline[];
}

export { DashboardManager, VIEW_TYPE };

export function registerDashboard(
  context: vscode.ExtensionContext,
  store: DisposableStore,
  log: Log,
  getService: () => Promise<RolloutService>,
  index?: PipelineSource,
  overrides: DashboardOptions = {},
): DashboardManager {
  // Same sources as the tree: its pipeline index, the typed confirmation it asks (answerable through
  // the surfaces' prompt seam in host tests), and re-watching when the service is replaced.
  const options: DashboardOptions = {
    pipelines: index ? async () => (await index.ready(), index.pipelines()) : undefined,
    onDidChangeService: onDidChangeRolloutService,
    confirm: confirmProtected,
    ...overrides,
  };
  const manager = store.add(new DashboardManager(context.extensionUri, log, getService, options));
  store.add(
    vscode.commands.registerCommand('kubeDelivery.openDashboard', async (arg?: unknown) => {
      const ref = toRef(arg) ?? (await manager.pick());
      if (!ref) return false;
      return manager.open(ref);
    }),
  );
  store.add(
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state) => manager.restore(panel, state),
    }),
  );
  // Test hooks: inject a message as if the page had posted it (it goes through the same validation),
  // queue answers for the typed confirmation, and list the open panels.
  store.add(vscode.commands.registerCommand('kubeDelivery._dashboardInject', (key: unknown, message: unknown) => manager.inject(key, message)));
  store.add(vscode.commands.registerCommand('kubeDelivery._dashboardConfirmAnswers', (answers: unknown) => {
    manager.confirmAnswers = Array.isArray(answers) ? answers.map((a) => (typeof a === 'string' ? a : undefined)) : [];
  }));
  store.add(vscode.commands.registerCommand('kubeDelivery._dashboardPanels', () => manager.describe()));
  return manager;
}

/** Accepts `{pipeline, environment, file?}` directly or wrapped as `{target: …}` (tree nodes). */
function toRef(arg: unknown): { pipeline: string; environment: string; file?: string } | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as Record<string, unknown>;
  const inner = a.target && typeof a.target === 'object' ? (a.target as Record<string, unknown>) : a;
  const pipeline = typeof inner.pipeline === 'string' ? inner.pipeline : (inner.pipeline as { name?: unknown } | undefined)?.name;
  const environment = inner.environment;
  if (typeof pipeline !== 'string' || typeof environment !== 'string') return undefined;
  return { pipeline, environment, file: typeof inner.file === 'string' ? inner.file : undefined };
}
