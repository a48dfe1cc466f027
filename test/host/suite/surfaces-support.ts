// Support for the editor-surface host tests: the extension's exported surfaces API, a workspace
// seeded with the examples, a kubeconfig written to a temp folder (pointed at by the setting), and an
// in-memory RolloutService for the tests that exercise the UI logic without a cluster.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ActionOptions, ActionResult, AttentionEntry, Disposable, RolloutService, RolloutTarget } from '../../../src/engine/api';
import { isActivePhase, waitsForHuman } from '../../../src/engine/attention';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';
import type { SurfacesApi } from '../../../src/extension/surfaces';
import { allowing, snapshotOf } from '../../unit/surfaces/snapshots';
import { extensionId, waitFor } from '../util';

export async function surfaces(): Promise<SurfacesApi> {
  const api = await vscode.extensions.getExtension(extensionId)!.activate();
  return api.surfaces as SurfacesApi;
}

export function workspaceDir(): string {
  return vscode.workspace.workspaceFolders![0].uri.fsPath;
}

/** Copies examples/ (deploy files + manifests) into the test workspace under `dirName`. */
export async function seedExamples(api: SurfacesApi, dirName = 'examples'): Promise<string> {
  const ext = vscode.extensions.getExtension(extensionId)!;
  const dest = path.join(workspaceDir(), dirName);
  fs.cpSync(path.join(ext.extensionPath, 'examples'), dest, { recursive: true });
  await api.index.rescan();
  await waitFor(() => api.index.pipelines().some((p) => p.file.startsWith(dest)), 20_000, 'examples indexed');
  return dest;
}

/** Writes a kubeconfig with the given contexts and points kubeDelivery.kubeconfig at it. */
export async function useKubeconfig(contexts: { name: string; server: string }[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-surfaces-kc-'));
  const file = path.join(dir, 'config');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': contexts[0]?.name,
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: 'u' } })),
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: [{ name: 'u', user: { token: 'x' } }],
  };
  fs.writeFileSync(file, JSON.stringify(doc));
  await vscode.workspace.getConfiguration('kubeDelivery').update('kubeconfig', file, vscode.ConfigurationTarget.Workspace);
  return file;
}

export async function clearKubeconfigSetting(): Promise<void> {
  await vscode.workspace.getConfiguration('kubeDelivery').update('kubeconfig', undefined, vscode.ConfigurationTarget.Workspace);
}

/** An idle snapshot of a target (shared with the unit tests). */
export const snap = snapshotOf;
/** A run in progress that allows exactly these actions. */
export const allow = allowing;

/**
 * An in-memory engine: watch streams what `emit` pushes; act records the request. Like the engine it
 * also offers the light attention stream, with the engine's own rule applied to the pushed snapshots,
 * so the badge and the status bar run the way they do against a cluster.
 */
export class FakeEngine implements RolloutService {
  readonly attention = new Set<{ targets: readonly RolloutTarget[]; listener: (entries: AttentionEntry[]) => void }>();
  readonly listeners = new Map<string, Set<(s: RolloutSnapshot) => void>>();
  readonly targets = new Map<string, RolloutTarget>();
  readonly state = new Map<string, RolloutSnapshot>();
  readonly acts: { key: string; action: RolloutAction | 'rerunTest'; options?: ActionOptions; test?: string }[] = [];

  /** Keyed by file too: other test files leave deploy files with the same pipeline names behind. */
  static key(file: string, pipeline: string, environment: string): string {
    return `${file}#${pipeline}@${environment}`;
  }

  async status(t: RolloutTarget): Promise<RolloutSnapshot> {
    return this.state.get(FakeEngine.key(t.pipeline.file, t.pipeline.name, t.environment)) ?? snap(t);
  }

  watch(t: RolloutTarget, listener: (s: RolloutSnapshot) => void): Disposable {
    const key = FakeEngine.key(t.pipeline.file, t.pipeline.name, t.environment);
    this.targets.set(key, t);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    void this.status(t).then((s) => set!.has(listener) && listener(s));
    return { dispose: () => set!.delete(listener) };
  }

  watchAttention(targets: readonly RolloutTarget[], listener: (entries: AttentionEntry[]) => void): Disposable {
    for (const t of targets) this.targets.set(FakeEngine.key(t.pipeline.file, t.pipeline.name, t.environment), t);
    const stream = { targets, listener };
    this.attention.add(stream);
    void Promise.resolve().then(() => this.attention.has(stream) && this.pushAttention(stream));
    return { dispose: () => this.attention.delete(stream) };
  }

  /** Whether an open attention stream follows this target. */
  followsAttention(ref: { file: string; pipeline: string; environment: string }): boolean {
    return [...this.attention].some((a) => a.targets.some((t) => t.pipeline.file === ref.file && t.pipeline.name === ref.pipeline && t.environment === ref.environment));
  }

  private pushAttention(stream: { targets: readonly RolloutTarget[]; listener: (entries: AttentionEntry[]) => void }): void {
    stream.listener(
      stream.targets.map((t) => {
        const s = this.state.get(FakeEngine.key(t.pipeline.file, t.pipeline.name, t.environment)) ?? snap(t);
        const gateKind = s.gate?.kind;
        return { target: t, pipeline: t.pipeline.name, environment: t.environment, runId: s.runId, phase: s.phase, gateKind, waitsForHuman: waitsForHuman({ phase: s.phase, gateKind, hasError: !!s.error }), active: isActivePhase(s.phase), error: s.error };
      }),
    );
  }

  /** Pushes a new snapshot built from the target's current one. */
  emit(ref: { file: string; pipeline: string; environment: string }, over: Partial<RolloutSnapshot>): RolloutSnapshot {
    const key = FakeEngine.key(ref.file, ref.pipeline, ref.environment);
    const t = this.targets.get(key);
    if (!t) throw new Error(`${key} is not watched`);
    const prev = this.state.get(key) ?? snap(t);
    const next = { ...prev, ...over, seq: prev.seq + 1, updatedAt: new Date().toISOString() };
    this.state.set(key, next);
    for (const l of this.listeners.get(key) ?? []) l(next);
    for (const a of this.attention) if (a.targets.some((x) => FakeEngine.key(x.pipeline.file, x.pipeline.name, x.environment) === key)) this.pushAttention(a);
    return next;
  }

  watching(ref: { file: string; pipeline: string; environment: string }): number {
    return this.listeners.get(FakeEngine.key(ref.file, ref.pipeline, ref.environment))?.size ?? 0;
  }

  async act(t: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ key: `${t.pipeline.name}@${t.environment}`, action, options });
    return { ok: true, snapshot: await this.status(t) };
  }

  /** Like the engine: appends a pending attempt (the next number, a new Job name) and streams it. */
  async rerunTest(t: RolloutTarget, test: string, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ key: `${t.pipeline.name}@${t.environment}`, action: 'rerunTest', test, options });
    const current = await this.status(t);
    const last = current.tests.filter((x) => x.name === test).sort((a, b) => (a.attempt ?? 1) - (b.attempt ?? 1)).at(-1);
    if (!last) return { ok: false, code: 'notAllowed', message: `test '${test}' has not run yet` };
    const attempt = (last.attempt ?? 1) + 1;
    const entry = { name: test, stage: last.stage, status: 'pending' as const, attempt, job: `${t.pipeline.name}-${test}-r${attempt}` };
    const snapshot = this.emit({ file: t.pipeline.file, pipeline: t.pipeline.name, environment: t.environment }, { tests: [...current.tests, entry] });
    return { ok: true, snapshot };
  }

  dispose(): void {
    this.listeners.clear();
    this.attention.clear();
  }
}

/** Scripted answers for the command prompts, matched on the prompt's title or text. */
export function scriptedPrompts(answers: { match: RegExp; answer: string | undefined }[]) {
  const asked: string[] = [];
  const take = (text: string) => {
    asked.push(text);
    const i = answers.findIndex((a) => a.match.test(text));
    if (i < 0) return undefined;
    const [a] = answers.splice(i, 1);
    return a.answer;
  };
  return {
    asked,
    prompts: {
      async pick<T extends vscode.QuickPickItem>(items: readonly T[], o: { title: string; placeholder: string }) {
        const want = take(`${o.title} | ${o.placeholder}`);
        if (want === undefined) return undefined;
        // "label|text": the item with that label whose detail or description contains text.
        const [label, text] = want.split('|');
        return items.find((i) => i.label === label && (!text || `${i.detail ?? ''} ${i.description ?? ''}`.includes(text)));
      },
      async input(o: { title: string; prompt: string; value?: string; validate?: (v: string) => string | undefined }) {
        const want = take(`${o.title} | ${o.prompt}`);
        if (want === undefined) return undefined;
        const value = want === '<default>' ? (o.value ?? '') : want;
        // Like the real InputBox: a value the validator rejects cannot be accepted.
        return o.validate?.(value) ? undefined : value;
      },
    },
  };
}

export function disposeAll(ds: Disposable[]): void {
  ds.splice(0).forEach((d) => d.dispose());
}

export { waitFor };
