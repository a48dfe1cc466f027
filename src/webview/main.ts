// Dashboard webview entry (browser bundle, IIFE). Wires the view to VS Code's webview API: messages in
// from the host, actions out, and `setState` so a reloaded window restores the panel (the host's
// WebviewPanelSerializer gets the same state back).
import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import type { RolloutSnapshot } from '../engine/snapshot';
import { themeChanged, uplotCharts } from './charts';
import { parseKey, parseWebviewState, PROTOCOL_VERSION, sameKey, type RolloutKey, type WebviewMessage, type WebviewState } from './protocol';
import { DashboardView } from './view';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** Timeline points kept in the persisted state: enough to paint a recent chart at once after a reload. */
const STATE_POINTS = 1000;
/** setState serialises the whole object; with a long run that is not free, so it is batched. */
const STATE_DELAY_MS = 500;
/** How often a live chart's right edge moves with the clock. */
const TICK_MS = 2000;

function boot(): void {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('app');
  if (!root) return;
  const restored = parseWebviewState(vscode.getState());
  // The host writes the rollout key into the page; a restored state of another rollout is ignored.
  const fromPage = parseKey(safeJson(root.getAttribute('data-key')));
  const key: RolloutKey | undefined = fromPage.ok ? fromPage.value : restored?.key;
  if (!key) {
    root.textContent = 'This dashboard has no rollout to show. Open it again from the Kube Delivery view.';
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest: RolloutSnapshot | undefined;
  const persist = () => {
    timer = undefined;
    // A restored snapshot is kept until a newer one arrives, so a second reload still paints at once.
    latest ??= restored?.snapshot && sameKey(restored.key, key) ? restored.snapshot : undefined;
    const snap = latest && latest.timeline.length > STATE_POINTS ? { ...latest, timeline: latest.timeline.slice(-STATE_POINTS) } : latest;
    const state: WebviewState = { version: PROTOCOL_VERSION, key, snapshot: snap };
    vscode.setState(state);
  };
  const view = new DashboardView(root, key, uplotCharts, {
    post: (msg: WebviewMessage) => vscode.postMessage(msg),
    changed: (s) => {
      latest = s;
      if (!timer) timer = setTimeout(persist, STATE_DELAY_MS);
    },
  });
  (window as unknown as { kdDashboard: DashboardView }).kdDashboard = view;
  // Save the key at once: a window reloaded before the first snapshot arrives must still restore the panel.
  persist();
  const sameRollout = restored?.snapshot && restored.key.pipeline === key.pipeline && restored.key.environment === key.environment;
  if (sameRollout && restored?.snapshot) view.render(restored.snapshot);
  window.addEventListener('message', (ev: MessageEvent) => {
    view.handle(ev.data);
  });
  // A trimmed restored timeline is not a valid base for deltas: ask for the full snapshot (haveSeq omitted).
  vscode.postMessage({ type: 'ready', key } satisfies WebviewMessage);
  new MutationObserver(themeChanged).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  setInterval(() => view.tick(), TICK_MS);
}

function safeJson(s: string | null): unknown {
  if (!s) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

boot();
