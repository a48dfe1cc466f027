// The dashboard page: builds the section skeleton once, renders a full snapshot, then applies deltas by
// touching only the sections whose fields changed — the traffic chart gets appended points, the checks
// table and the events list get new rows. Charts are injected (ChartFactory) so this runs under a DOM
// emulation in Node tests and with uPlot in the real webview.
import type { RolloutAction, RolloutSnapshot } from '../engine/snapshot';
import { applyDelta } from './delta';
import { h, replaceChildren, setText } from './dom';
import {
  actionModels,
  chartSummary,
  checkRow,
  columnsFrom,
  appendPoints,
  extendToNow,
  toSeconds,
  gateMarkers,
  hasBaseline,
  headerModel,
  metricSeries,
  stageModels,
  testRows,
  weightLabels,
  formatWeights,
  type GateMarker,
  type MetricSeries,
  type TrafficColumns,
  type WeightLabels,
} from './model';
import { keyId, parseHostMessage, sameKey, type HostMessage, type RolloutKey, type SnapshotDelta, type WebviewMessage } from './protocol';

export interface TrafficChartPort {
  /** Called with the same (grown) arrays after appends: implementations must not copy-and-rebuild. */
  setData(cols: TrafficColumns, gates: GateMarker[]): void;
  destroy(): void;
}
export interface MetricChartPort {
  setData(series: MetricSeries): void;
  destroy(): void;
}
export interface ChartFactory {
  traffic(container: HTMLElement, labels: WeightLabels, withBaseline: boolean): TrafficChartPort;
  metric(container: HTMLElement, series: MetricSeries): MetricChartPort;
}

export interface ViewHost {
  post(msg: WebviewMessage): void;
  /** The view's current snapshot changed (main.ts persists it, throttled). */
  changed(snapshot: RolloutSnapshot): void;
}

/** Events shown at most (newest first); the full list stays in the record and the CLI. */
const MAX_EVENTS = 300;

const LIVE = new Set(['progressing', 'waiting', 'paused']);

const HEADER_KEYS = ['pipeline', 'environment', 'context', 'namespace', 'strategy', 'router', 'phase', 'reason', 'fromImage', 'toImage', 'stage', 'driver', 'error', 'updatedAt'];

export class DashboardView {
  private snap: RolloutSnapshot | undefined;
  private protectedEnv = false;
  private cols: TrafficColumns | undefined;
  private traffic: TrafficChartPort | undefined;
  private trafficShape = '';
  private readonly metricCharts = new Map<string, MetricChartPort>();
  private readonly pending = new Map<number, RolloutAction>();
  private nextRequest = 1;
  private readonly openLogs = new Set<string>();
  private eventCount = 0;
  /** When the last snapshot arrived (page clock), and seconds since then at the last tick. */
  private receivedAtMs = 0;
  private elapsedSeconds = 0;
  private readonly doc: Document;
  readonly el: Record<string, HTMLElement> = {};

  constructor(
    private readonly root: HTMLElement,
    readonly key: RolloutKey,
    private readonly charts: ChartFactory,
    private readonly host: ViewHost,
  ) {
    this.doc = root.ownerDocument;
    this.skeleton();
  }

  get snapshot(): RolloutSnapshot | undefined {
    return this.snap;
  }

  /** Handles one message from the host; returns false when it was ignored (malformed, another rollout). */
  handle(raw: unknown): boolean {
    const parsed = parseHostMessage(raw);
    if (!parsed.ok || !sameKey(parsed.value.key, this.key)) return false;
    const msg: HostMessage = parsed.value;
    switch (msg.type) {
      case 'snapshot':
        this.protectedEnv = msg.protectedEnv;
        this.render(msg.snapshot);
        return true;
      case 'delta':
        return this.applyDelta(msg.delta);
      case 'actionResult':
        this.pending.delete(msg.requestId);
        this.showNotice(msg.ok ? `${msg.action}: ${msg.message}` : `${msg.action} refused: ${msg.message}`, msg.ok ? 'ok' : 'error');
        if (this.snap) this.renderActions(this.snap);
        return true;
      case 'unavailable':
        this.showNotice(msg.message, 'error');
        return true;
    }
  }

  /** Full render (first snapshot, resync, new run). */
  render(s: RolloutSnapshot): void {
    this.snap = s;
    this.received();
    this.root.setAttribute('aria-busy', 'false');
    this.el.loading.hidden = true;
    this.el.main.hidden = false;
    this.renderHeader(s);
    this.renderActions(s);
    this.renderTraffic(s, true);
    this.renderVersions(s);
    this.renderStages(s);
    this.renderAnalysis(s, true, 0);
    this.renderTests(s);
    this.renderEvents(s, true);
    this.renderHistory(s);
    this.host.changed(s);
  }

  private applyDelta(d: SnapshotDelta): boolean {
    if (!this.snap) {
      this.host.post({ type: 'resync', key: this.key, haveSeq: 0 });
      return false;
    }
    const prev = this.snap;
    const prevAnalysis = prev.analysis.length;
    const res = applyDelta(prev, d, { inPlace: true });
    if (!res.ok) {
      // A missed delta: ask for the whole snapshot instead of showing something wrong.
      this.host.post({ type: 'resync', key: this.key, haveSeq: prev.seq });
      return false;
    }
    const s = res.snapshot;
    this.snap = s;
    this.received();
    const changed = new Set<string>([...Object.keys(d.set), ...d.unset]);
    const has = (...keys: string[]) => keys.some((k) => changed.has(k));
    if (has(...HEADER_KEYS, 'versions')) this.renderHeader(s);
    if (has('actions', 'phase', 'environment')) this.renderActions(s);
    if (has('strategy', 'versions', 'toImage') && this.shapeOf(s) !== this.trafficShape) {
      this.renderTraffic(s, true);
    } else if (changed.has('timeline')) {
      this.renderTraffic(s, true);
    } else if (d.append.timeline?.length || has('stages', 'gate', 'updatedAt')) {
      if (d.append.timeline?.length && this.cols) appendPoints(this.cols, d.append.timeline);
      this.renderTraffic(s, false);
    } else if (has('weights', 'stage')) {
      this.renderSummary(s);
    }
    if (has('versions')) this.renderVersions(s);
    if (has('stages', 'stage', 'gate', 'versions', 'strategy')) this.renderStages(s);
    const droppedChecks = d.drop?.analysis ?? 0;
    if (droppedChecks && !changed.has('analysis')) {
      for (let i = 0; i < droppedChecks && this.el.checks.firstChild; i++) this.el.checks.removeChild(this.el.checks.firstChild);
    }
    if (changed.has('analysis')) this.renderAnalysis(s, true, 0);
    else if (d.append.analysis?.length || droppedChecks) this.renderAnalysis(s, false, prevAnalysis - droppedChecks);
    if (has('tests')) this.renderTests(s);
    if (changed.has('events')) this.renderEvents(s, true);
    else if (d.append.events?.length || d.drop?.events) this.renderEvents(s, false, d.drop?.events ?? 0);
    if (has('history')) this.renderHistory(s);
    this.host.changed(s);
    return true;
  }

  // ---------------------------------------------------------------- skeleton

  private skeleton(): void {
    const d = this.doc;
    const e = this.el;
    e.loading = h(d, 'p', { className: 'loading', role: 'status' }, `Loading ${keyId(this.key)}…`);
    e.title = h(d, 'h1', { id: 'title' });
    e.envBadge = h(d, 'span', { className: 'env', 'data-testid': 'environment' });
    e.strategy = h(d, 'span', { className: 'strategy', 'data-testid': 'strategy' });
    e.where = h(d, 'span', { className: 'where' });
    e.images = h(d, 'p', { className: 'images', 'data-testid': 'images' });
    e.status = h(d, 'span', { className: 'status', 'data-testid': 'status' });
    e.stage = h(d, 'span', { className: 'stage', 'data-testid': 'stage' });
    e.reason = h(d, 'p', { className: 'reason', 'data-testid': 'reason' });
    e.driver = h(d, 'span', { className: 'driver' });
    e.error = h(d, 'p', { className: 'error-banner', role: 'alert', 'data-testid': 'error', hidden: true });
    e.actions = h(d, 'div', { className: 'actions', role: 'toolbar', 'aria-label': 'Rollout actions' });
    e.notice = h(d, 'p', { className: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'notice' });
    e.weights = h(d, 'p', { className: 'weights', 'data-testid': 'weights' });
    e.trafficChart = h(d, 'div', { className: 'chart traffic-chart', 'data-testid': 'traffic-chart', role: 'img', 'aria-label': 'Traffic weights over time' });
    e.trafficLegend = h(d, 'ul', { className: 'legend', 'aria-hidden': 'true' });
    e.summary = h(d, 'p', { className: 'chart-summary', 'aria-live': 'polite', 'data-testid': 'chart-summary' });
    e.versions = h(d, 'tbody');
    e.stages = h(d, 'ol', { className: 'stages', 'data-testid': 'stages' });
    e.gate = h(d, 'p', { className: 'gate', 'data-testid': 'gate' });
    e.failure = h(d, 'p', { className: 'failure', role: 'alert', 'data-testid': 'failed-check', hidden: true });
    e.metricCharts = h(d, 'div', { className: 'metric-charts' });
    e.checks = h(d, 'tbody', { 'data-testid': 'checks' });
    e.noChecks = h(d, 'p', { className: 'empty' }, 'No analysis checks yet.');
    e.tests = h(d, 'tbody', { 'data-testid': 'tests' });
    e.noTests = h(d, 'p', { className: 'empty' }, 'No tests in this run.');
    e.events = h(d, 'ol', { className: 'events', 'data-testid': 'events', reversed: true });
    e.history = h(d, 'tbody');

    const section = (id: string, title: string, ...children: HTMLElement[]) =>
      h(d, 'section', { id, 'aria-labelledby': `${id}-h` }, h(d, 'h2', { id: `${id}-h` }, title), ...children);
    const table = (caption: string, headers: string[], body: HTMLElement) =>
      h(d, 'table', {}, h(d, 'caption', { className: 'sr-only' }, caption), h(d, 'thead', {}, h(d, 'tr', {}, ...headers.map((x) => h(d, 'th', { scope: 'col' }, x)))), body);

    e.main = h(
      d,
      'main',
      { hidden: true },
      h(
        d,
        'header',
        { className: 'header', 'data-testid': 'header' },
        h(d, 'div', { className: 'title-row' }, e.title, e.envBadge, e.strategy, e.status, e.stage),
        h(d, 'div', { className: 'meta-row' }, e.where, e.driver),
        e.images,
        e.reason,
        e.error,
      ),
      e.actions,
      e.notice,
      section('traffic', 'Traffic', e.weights, e.trafficChart, e.trafficLegend, e.summary),
      section('versions', 'Versions', table('Versions', ['Role', 'Deployment', 'Image', 'Ready', 'Desired'], e.versions)),
      section('stage-timeline', 'Stages', e.gate, e.stages),
      section(
        'analysis',
        'Analysis',
        e.failure,
        e.metricCharts,
        e.noChecks,
        table('Analysis checks', ['Stage', 'Check', 'Metric', 'Verdict', 'Value', 'Baseline', 'Threshold', 'Query', 'At'], e.checks),
      ),
      section('tests', 'Tests', e.noTests, table('Tests', ['Name', 'Stage', 'Status', 'Duration', 'Details'], e.tests)),
      section('events', 'Events', e.events),
      section('history', 'Past runs', table('Past runs', ['Run', 'Image', 'From', 'Result', 'Reason', 'Started'], e.history)),
    );
    this.root.setAttribute('aria-busy', 'true');
    replaceChildren(this.root, [e.loading, e.main]);
  }

  // ---------------------------------------------------------------- sections

  private renderHeader(s: RolloutSnapshot): void {
    const m = headerModel(s);
    const e = this.el;
    setText(e.title, m.title);
    setText(e.envBadge, this.protectedEnv ? `${m.environment} (protected)` : m.environment);
    setText(e.strategy, m.strategy);
    setText(e.where, m.where);
    replaceChildren(e.images, [h(this.doc, 'code', { 'data-testid': 'from-image' }, m.fromImage), ' → ', h(this.doc, 'code', { 'data-testid': 'to-image' }, m.toImage)]);
    setText(e.status, m.status);
    e.status.className = `status tone-${m.tone}`;
    e.status.setAttribute('data-phase', s.phase);
    setText(e.stage, m.stage);
    setText(e.reason, m.reason);
    setText(e.driver, m.driver ?? '');
    e.error.hidden = !m.error;
    setText(e.error, m.error ?? '');
  }

  private renderActions(s: RolloutSnapshot): void {
    const pending = new Set(this.pending.values());
    const models = actionModels(s, this.protectedEnv, pending);
    const active = this.doc.activeElement as HTMLElement | null;
    const hadFocus = active && this.el.actions.contains(active) ? active.getAttribute('data-action') : null;
    const buttons = models.map((m) => {
      const b = h(this.doc, 'button', {
        type: 'button',
        className: `action ${m.kind}`,
        'data-action': m.action,
        title: m.title,
        'aria-disabled': m.enabled ? undefined : 'true',
        'aria-describedby': m.enabled ? undefined : `why-${m.action}`,
      }, m.label);
      // aria-disabled instead of disabled keeps the buttons focusable, so keyboard users can reach
      // them and hear why they are unavailable.
      b.addEventListener('click', () => {
        if (m.enabled) this.requestAction(m.action);
      });
      const why = m.enabled ? null : h(this.doc, 'span', { id: `why-${m.action}`, className: 'sr-only' }, m.title);
      return h(this.doc, 'span', { className: 'action-wrap' }, b, why);
    });
    const disabledReasons = models.filter((m) => !m.enabled).map((m) => `${m.label}: ${m.title.replace(/^Not available: /, '')}`);
    const hint = h(this.doc, 'details', { className: 'why-disabled' }, h(this.doc, 'summary', {}, 'Why are some actions unavailable?'), h(this.doc, 'ul', {}, ...disabledReasons.map((r) => h(this.doc, 'li', {}, r))));
    replaceChildren(this.el.actions, [...buttons, disabledReasons.length ? hint : null]);
    if (hadFocus) (this.el.actions.querySelector(`[data-action="${hadFocus}"]`) as HTMLElement | null)?.focus();
  }

  private requestAction(action: Exclude<RolloutAction, 'start'>): void {
    const requestId = this.nextRequest++;
    this.pending.set(requestId, action);
    this.showNotice(`${action}: sent…`, 'info');
    this.host.post({ type: 'act', key: this.key, action, requestId });
    if (this.snap) this.renderActions(this.snap);
  }

  private showNotice(text: string, tone: 'ok' | 'error' | 'info'): void {
    setText(this.el.notice, text);
    this.el.notice.className = `notice tone-${tone}`;
  }

  private shapeOf(s: RolloutSnapshot): string {
    const l = weightLabels(s);
    return `${l.current}|${l.baseline}|${l.canary}|${hasBaseline(s)}`;
  }

  private renderTraffic(s: RolloutSnapshot, rebuild: boolean): void {
    const shape = this.shapeOf(s);
    const labels = weightLabels(s);
    const base = hasBaseline(s);
    if (rebuild || !this.cols) this.cols = columnsFrom(s.timeline);
    if (!this.traffic || shape !== this.trafficShape) {
      this.traffic?.destroy();
      replaceChildren(this.el.trafficChart, []);
      this.traffic = this.charts.traffic(this.el.trafficChart, labels, base);
      this.trafficShape = shape;
      const d = this.doc;
      const item = (cls: string, text: string) => h(d, 'li', {}, h(d, 'span', { className: `swatch ${cls}` }), text);
      replaceChildren(this.el.trafficLegend, [
        item('canary', `${labels.canary} (actual)`),
        base ? item('baseline', `${labels.baseline} (actual)`) : null,
        item('current', `${labels.current} (actual)`),
        item('requested', 'requested (dashed)'),
        item('boundary', 'stage boundary'),
        item('gate', 'gate'),
      ]);
    }
    extendToNow(this.cols, this.nowSeconds(s));
    this.traffic.setData(this.cols, gateMarkers(s));
    this.el.trafficChart.setAttribute('data-until', String(this.cols.x[this.cols.x.length - 1] ?? ''));
    this.renderSummary(s);
  }

  private renderSummary(s: RolloutSnapshot): void {
    const labels = weightLabels(s);
    const base = hasBaseline(s);
    setText(this.el.weights, `Actual: ${formatWeights(s.weights.actual, labels, base)} — requested: ${formatWeights(s.weights.requested, labels, base)}`);
    this.el.weights.setAttribute('data-canary', String(s.weights.actual.canary));
    this.el.weights.setAttribute('data-requested-canary', String(s.weights.requested.canary));
    this.el.trafficChart.setAttribute('data-points', String(this.cols?.raw.x.length ?? 0));
    this.el.trafficChart.setAttribute('data-drawn', String(this.cols?.x.length ?? 0));
    setText(this.el.summary, chartSummary(s));
  }

  private renderVersions(s: RolloutSnapshot): void {
    const d = this.doc;
    replaceChildren(
      this.el.versions,
      s.versions.map((v) =>
        h(d, 'tr', { 'data-role': v.role }, h(d, 'th', { scope: 'row' }, v.active ? `${v.role} (active)` : v.role), h(d, 'td', {}, v.deployment), h(d, 'td', {}, h(d, 'code', {}, v.image)), h(d, 'td', {}, String(v.ready)), h(d, 'td', {}, String(v.desired))),
      ),
    );
  }

  private renderStages(s: RolloutSnapshot): void {
    const d = this.doc;
    setText(this.el.gate, s.gate ? `Waiting: ${s.gate.message} (since ${timeOf(s.gate.since)})` : '');
    this.el.gate.hidden = !s.gate;
    replaceChildren(
      this.el.stages,
      stageModels(s).map((m) =>
        h(
          d,
          'li',
          { className: `stage-item state-${m.state}`, 'data-state': m.state, 'aria-current': m.current ? 'step' : undefined },
          h(d, 'span', { className: 'stage-label' }, m.label),
          h(d, 'span', { className: 'stage-state' }, m.state),
          h(d, 'span', { className: 'stage-detail' }, m.detail),
        ),
      ),
    );
  }

  private renderAnalysis(s: RolloutSnapshot, rebuildRows: boolean, from: number): void {
    const d = this.doc;
    const rows = (rebuildRows ? s.analysis : s.analysis.slice(from)).map((m) => {
      const r = checkRow(m);
      return h(
        d,
        'tr',
        { className: `verdict-${r.verdict}`, 'data-verdict': r.verdict },
        h(d, 'td', {}, r.stage),
        h(d, 'td', {}, r.check),
        h(d, 'td', {}, r.metric),
        h(d, 'td', { className: 'verdict' }, r.verdictLabel),
        h(d, 'td', { className: 'value', title: r.message }, r.value),
        h(d, 'td', {}, r.baseline),
        h(d, 'td', { className: 'threshold' }, r.threshold),
        h(d, 'td', {}, h(d, 'code', { className: 'query' }, r.query)),
        h(d, 'td', {}, timeOf(r.at)),
      );
    });
    if (rebuildRows) replaceChildren(this.el.checks, rows);
    else for (const r of rows) this.el.checks.appendChild(r);
    this.el.noChecks.hidden = s.analysis.length > 0;
    const failed = [...s.analysis].reverse().find((m) => m.verdict === 'fail' || m.verdict === 'error');
    this.el.failure.hidden = !failed;
    if (failed) {
      const r = checkRow(failed);
      setText(this.el.failure, `Failed check (stage ${r.stage}, check ${r.check}): ${r.metric} ${r.value} against threshold ${r.threshold}${r.message ? ` — ${r.message}` : ''}`);
    }
    // Metric charts: few points (one per check), so they are simply re-fed.
    const series = metricSeries(s.analysis);
    const seen = new Set<string>();
    for (const ser of series) {
      seen.add(ser.metric);
      let chart = this.metricCharts.get(ser.metric);
      if (!chart) {
        const box = h(d, 'figure', { className: 'chart metric-chart', 'data-metric': ser.metric }, h(d, 'figcaption', {}, `${ser.label} (${ser.unit}): canary${ser.hasBaseline ? ', baseline' : ''} and threshold`));
        this.el.metricCharts.appendChild(box);
        chart = this.charts.metric(box, ser);
        this.metricCharts.set(ser.metric, chart);
      }
      chart.setData(ser);
    }
    for (const [k, c] of this.metricCharts) {
      if (seen.has(k)) continue;
      c.destroy();
      this.metricCharts.delete(k);
      this.el.metricCharts.querySelector(`[data-metric="${k}"]`)?.remove();
    }
  }

  private renderTests(s: RolloutSnapshot): void {
    const d = this.doc;
    for (const det of Array.from(this.el.tests.querySelectorAll('details'))) {
      const id = det.getAttribute('data-id')!;
      if (det.hasAttribute('open')) this.openLogs.add(id);
      else this.openLogs.delete(id);
    }
    const rows = testRows(s.tests).map((t) => {
      const id = `${t.stage}:${t.name}`;
      const details = t.log || t.message
        ? h(d, 'details', { 'data-id': id, open: this.openLogs.has(id) }, h(d, 'summary', {}, t.message || 'log'), t.log ? h(d, 'pre', { className: 'log' }, t.log) : null)
        : '';
      return h(d, 'tr', { 'data-status': t.status, 'data-test': t.name }, h(d, 'th', { scope: 'row' }, t.name), h(d, 'td', {}, t.stage), h(d, 'td', { className: `tone-${t.tone}` }, t.statusLabel), h(d, 'td', {}, t.duration), h(d, 'td', {}, details));
    });
    replaceChildren(this.el.tests, rows);
    this.el.noTests.hidden = s.tests.length > 0;
  }

  private renderEvents(s: RolloutSnapshot, rebuild: boolean, dropped = 0): void {
    const d = this.doc;
    const list = this.el.events;
    if (dropped) {
      // The record's capped window slid: its oldest events (at the bottom, newest first) are gone.
      this.eventCount -= dropped;
      while (list.childNodes.length > Math.max(0, this.eventCount)) list.removeChild(list.lastChild!);
    }
    const from = rebuild ? Math.max(0, s.events.length - MAX_EVENTS) : this.eventCount;
    if (rebuild) replaceChildren(list, []);
    for (let i = from; i < s.events.length; i++) {
      const ev = s.events[i];
      list.insertBefore(
        h(d, 'li', { className: `event ${ev.type === 'Warning' ? 'warning' : 'normal'}` }, h(d, 'time', { datetime: ev.at }, timeOf(ev.at)), ' ', h(d, 'strong', {}, ev.reason), ' ', ev.message),
        list.firstChild,
      );
    }
    while (list.childNodes.length > MAX_EVENTS) list.removeChild(list.lastChild!);
    this.eventCount = s.events.length;
  }

  private renderHistory(s: RolloutSnapshot): void {
    const d = this.doc;
    replaceChildren(
      this.el.history,
      s.history.map((r) => h(d, 'tr', {}, h(d, 'td', {}, r.runId), h(d, 'td', {}, h(d, 'code', {}, r.image)), h(d, 'td', {}, h(d, 'code', {}, r.fromImage)), h(d, 'td', {}, r.phase), h(d, 'td', {}, r.reason), h(d, 'td', {}, timeOf(r.startedAt)))),
    );
  }

  /**
   * While a run is live the chart's right edge follows the clock (the engine only records changes, so a
   * rollout waiting at a gate sends nothing new); main.ts calls this every few seconds.
   */
  tick(nowMs: number = Date.now()): void {
    const s = this.snap;
    if (!s || !this.cols || !this.traffic || !LIVE.has(s.phase)) return;
    this.elapsedSeconds = Math.max(0, (nowMs - this.receivedAtMs) / 1000);
    this.renderTraffic(s, false);
  }

  /**
   * The engine's "now": its last snapshot time plus the wall-clock time since it arrived. (Not the page's
   * clock: the engine may run on another clock, e.g. the sandbox's accelerated one.)
   */
  private nowSeconds(s: RolloutSnapshot): number {
    const at = toSeconds(s.updatedAt);
    return LIVE.has(s.phase) ? at + this.elapsedSeconds : at;
  }

  private received(): void {
    this.receivedAtMs = Date.now();
    this.elapsedSeconds = 0;
  }

  dispose(): void {
    this.traffic?.destroy();
    for (const c of this.metricCharts.values()) c.destroy();
  }
}

/** Local wall-clock time of an ISO instant (HH:MM:SS), or the raw text when it does not parse. */
function timeOf(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const dt = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(dt.getHours())}:${p(dt.getMinutes())}:${p(dt.getSeconds())}`;
}
