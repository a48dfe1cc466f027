// The lazily created RolloutService (and the sandbox it may point at) shared by the tree, commands,
// CodeLens, Testing view and the dashboard. Nothing here loads the engine or @kubernetes/client-node
// until someone asks for the service; the engine lives in dist/lazy-engine.js, required on first use.
import * as path from 'node:path';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { ClusterAccess, RolloutService } from '../engine/api';
import { resolveKubeconfigPaths, type ContextInfo, type KubeconfigSource } from './kubeconfig/resolve';
import { loadKubeconfig } from './kubeconfig/load';
import type { Log } from './log';
import { ServiceSlot } from './model/serviceSlot';
import { isTrusted, onDidChangeTrust } from './trust';

export interface ServiceFactoryOptions {
  /** Who acts, recorded in the rollout's events ("vscode:alice"). */
  actor: string;
  log: Log;
  /** False in a restricted workspace: the engine observes but never drives (drives = writes). */
  canDrive: boolean;
}
export type RolloutServiceFactory = (access: ClusterAccess, options: ServiceFactoryOptions) => RolloutService | Promise<RolloutService>;

export interface ClusterView {
  access: ClusterAccess;
  contexts: ContextInfo[];
  source: KubeconfigSource;
  problems: string[];
}

interface State {
  log: Log;
  factory?: RolloutServiceFactory;
  sandboxKubeconfig?: string;
  cluster?: Promise<ClusterView>;
  /** The service; replacing or closing it hands its runs over before disposing it (serviceSlot.ts). */
  slot: ServiceSlot;
}

let state: State | undefined;
const changed = new vscode.EventEmitter<void>();

/** Fires when the service was replaced (kubeconfig, setting, trust or sandbox changed): re-watch. */
export const onDidChangeRolloutService = changed.event;

export function initServices(log: Log): vscode.Disposable {
  const s: State = {
    log,
    slot: new ServiceSlot({
      create: () => createService(s),
      log,
      onCreateError: (err) => log.error(`Could not start the rollout engine: ${err instanceof Error ? err.message : String(err)}`),
    }),
  };
  state = s;
  const subs = [
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kubeDelivery.kubeconfig')) resetServices('the kubeDelivery.kubeconfig setting changed');
    }),
    onDidChangeTrust(() => resetServices('workspace trust changed')),
    changed,
  ];
  return {
    dispose() {
      subs.forEach((d) => d.dispose());
      // Normally shutdownServices (deactivate) already retired the service; otherwise it leaves now, in
      // the background (nobody awaits a Disposable).
      void s.slot.retire();
      state = undefined;
    },
  };
}

function requireState(): State {
  if (!state) throw new Error('Kube Delivery is not active');
  return state;
}

/** Kubeconfig contexts the extension can use right now (files + the sandbox's). Cheap after the first call. */
export function getClusterView(): Promise<ClusterView> {
  const s = requireState();
  s.cluster ??= (async () => {
    const source = resolveKubeconfigPaths({
      setting: vscode.workspace.getConfiguration('kubeDelivery').get<string>('kubeconfig'),
      trusted: isTrusted(),
      kubeconfigEnv: process.env.KUBECONFIG,
      home: os.homedir(),
    });
    const loaded = await loadKubeconfig(source.paths, s.sandboxKubeconfig, { fromSetting: source.source === 'setting' });
    if (source.note) s.log.warn(source.note);
    for (const p of loaded.problems) s.log.error(`kubeconfig ${p}`);
    return { access: loaded.access, contexts: loaded.contexts, source, problems: loaded.problems };
  })();
  return s.cluster;
}

export function getClusterAccess(): Promise<ClusterAccess> {
  return getClusterView().then((v) => v.access);
}

/** The one RolloutService of this window, created on first use. */
export function getRolloutService(): Promise<RolloutService> {
  return requireState().slot.get();
}

async function createService(s: State): Promise<RolloutService> {
  const access = await getClusterAccess();
  const factory = s.factory ?? loadEngineFactory();
  const actor = `vscode:${safeUser()}`;
  const service = await factory(access, { actor, log: s.log, canDrive: isTrusted() });
  s.log.info(`Rollout engine ready (${describeAccess(access)})`);
  return service;
}

/**
 * The extension is deactivating: hand the runs this window drives over and close the service, within a
 * few seconds (VS Code does not wait long for deactivate). Resolves when done; never rejects.
 */
export function shutdownServices(): Promise<void> {
  return state ? state.slot.retire() : Promise.resolve();
}

/** Replaces the service on the next use and tells every consumer to re-watch. */
export function resetServices(why: string): void {
  const s = state;
  if (!s) return;
  s.log.info(`Reconnecting: ${why}`);
  // The old service hands its runs over in the background; the next one starts after it has left.
  void s.slot.retire();
  s.cluster = undefined;
  changed.fire();
}

/** The sandbox manager hands its kubeconfig over here (held in memory only, never written). */
export function setSandboxKubeconfig(yaml: string | undefined): void {
  const s = requireState();
  s.sandboxKubeconfig = yaml;
  resetServices(yaml ? 'the sandbox cluster started' : 'the sandbox cluster stopped');
}

export function hasSandboxKubeconfig(): boolean {
  return !!state?.sandboxKubeconfig;
}

/** Test seam: host tests and benchmarks inject a service factory (undefined restores the engine). */
export function setRolloutServiceFactory(factory: RolloutServiceFactory | undefined): void {
  requireState().factory = factory;
  resetServices(factory ? 'a test installed a service factory' : 'the engine factory was restored');
}

function loadEngineFactory(): RolloutServiceFactory {
  // Bundled separately (scripts/build.mjs: src/extension/lazy/engine.ts -> dist/lazy-engine.js) so that
  // activation never loads the engine or @kubernetes/client-node.
  const mod = require(path.join(__dirname, 'lazy-engine.js')) as { createRolloutService: RolloutServiceFactory };
  return mod.createRolloutService;
}

function describeAccess(a: ClusterAccess): string {
  if (a.kubeconfigYaml) return 'in-memory kubeconfig with the sandbox';
  return `kubeconfig ${a.kubeconfigPaths?.join(path.delimiter) || 'default'}`;
}

function safeUser(): string {
  try {
    return os.userInfo().username || 'user';
  } catch {
    return 'user';
  }
}
