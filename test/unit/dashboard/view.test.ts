import assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import { computeDelta } from '../../../src/webview/delta';
import type { MetricSeries, TrafficColumns } from '../../../src/webview/model';
import type { HostMessage, WebviewMessage } from '../../../src/webview/protocol';
import { DashboardView, type ChartFactory } from '../../../src/webview/view';
import { canarySnapshot, measurement, nextSnapshot, iso, T0 } from './fixtures';

const key = { pipeline: 'checkout', environment: 'staging' };

/** Records what the charts were fed, instead of drawing. */
class FakeCharts implements ChartFactory {
  trafficCreated = 0;
  trafficCalls: { cols: TrafficColumns; len: number }[] = [];
  metricCalls: MetricSeries[] = [];
  traffic() {
    this.trafficCreated++;
    return { setData: (cols: TrafficColumns) => void this.trafficCalls.push({ cols, len: cols.raw.x.length }), destroy: () => undefined };
  }
  metric() {
    return { setData: (s: MetricSeries) => void this.metricCalls.push(s), destroy: () => undefined };
  }
}

function setup() {
  const { document } = parseHTML('<!DOCTYPE html><html><body><div id="app"></div></body></html>');
  const root = document.getElementById('app') as unknown as HTMLElement;
  const posted: WebviewMessage[] = [];
  const saved: RolloutSnapshot[] = [];
  const charts = new FakeCharts();
  const view = new DashboardView(root, key, charts, { post: (m) => posted.push(m), changed: (s) => saved.push(s) });
  const q = (sel: string) => root.querySelector(sel) as HTMLElement;
  const text = (sel: string) => q(sel)?.textContent ?? '';
  return { root, view, posted, saved, charts, q, text };
}

// Messages are cloned on their way to the page (postMessage); the view may then update its copy in place.
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const full = (s: RolloutSnapshot, protectedEnv = false): HostMessage => wire({ type: 'snapshot', key, snapshot: s, protectedEnv });
const delta = (a: RolloutSnapshot, b: RolloutSnapshot): HostMessage => wire({ type: 'delta', key, delta: computeDelta(a, b) });

describe('dashboard view (DOM)', () => {
  it('renders header, stage, weights, checks, tests and events from a snapshot', () => {
    const { view, text, q, root } = setup();
    assert.equal(view.handle(full(canarySnapshot())), true);
    assert.equal(text('#title'), 'checkout');
    assert.equal(text('[data-testid=environment]'), 'staging');
    assert.equal(text('[data-testid=strategy]'), 'Canary · replicas');
    assert.equal(text('[data-testid=from-image]'), 'registry.example.com/checkout:1.7.0');
    assert.equal(text('[data-testid=to-image]'), 'registry.example.com/checkout:1.8.0');
    assert.equal(text('[data-testid=status]'), 'Waiting');
    assert.equal(text('[data-testid=stage]'), 'stage 2 of 3');
    assert.match(text('[data-testid=weights]'), /^Actual: canary 50% · baseline 10% · stable 40%/);
    assert.equal(q('[data-testid=stages] [aria-current=step]')?.textContent?.startsWith('Stage 2'), true);
    const checkRows = root.querySelectorAll('[data-testid=checks] tr');
    assert.equal(checkRows.length, 3);
    assert.equal(checkRows[2].getAttribute('data-verdict'), 'noData');
    assert.match(checkRows[2].textContent!, /no data/);
    assert.equal(root.querySelectorAll('[data-testid=tests] tr').length, 2);
    assert.match(text('[data-testid=tests]'), /HTTP\/1.1 200 OK/);
    assert.equal(root.querySelectorAll('[data-testid=events] li').length, 2);
    assert.match(text('[data-testid=chart-summary]'), /Traffic now: canary 50%/);
    assert.equal(q('[data-testid=chart-summary]').getAttribute('aria-live'), 'polite');
  });

  it('action buttons follow snapshot.actions and say why when disabled; clicks post act', () => {
    const { view, q, posted } = setup();
    view.handle(full(canarySnapshot()));
    const promote = q('button[data-action=promote]');
    const resume = q('button[data-action=resume]');
    assert.equal(promote.getAttribute('aria-disabled'), null);
    assert.equal(resume.getAttribute('aria-disabled'), 'true');
    assert.equal(resume.getAttribute('title'), 'Not available: resume is not possible in this state');
    resume.click();
    assert.equal(posted.length, 0, 'a disabled action posts nothing');
    promote.click();
    assert.deepEqual(posted, [{ type: 'act', key, action: 'promote', requestId: 1 }]);
    assert.equal(q('button[data-action=promote]').getAttribute('aria-disabled'), 'true', 'pending until the host answers');
    view.handle({ type: 'actionResult', key, requestId: 1, action: 'promote', ok: false, message: 'action `promote` not allowed: already at the last stage' });
    assert.equal(q('button[data-action=promote]').getAttribute('aria-disabled'), null);
    assert.match(q('[data-testid=notice]').textContent!, /promote refused: .*already at the last stage/);
  });

  it('shows a failed check with its value against the threshold', () => {
    const { view, q } = setup();
    view.handle(full(canarySnapshot({ failing: true })));
    const failure = q('[data-testid=failed-check]');
    assert.equal(failure.hidden, false);
    assert.match(failure.textContent!, /success rate 91.2% against threshold ≥ 99%/);
    assert.equal(q('[data-testid=status]').textContent, 'Rolled back');
    assert.equal(q('button[data-action=retry]').getAttribute('aria-disabled'), null);
  });

  it('applies deltas incrementally: points appended to the same arrays, rows and events appended', () => {
    const { view, charts, root, text } = setup();
    const a = canarySnapshot({ points: 50 });
    view.handle(full(a));
    const firstCols = charts.trafficCalls[0].cols;
    let prev = a;
    let next = nextSnapshot(a);
    next = { ...next, analysis: [...next.analysis, measurement(1, 1, 'successRate', 99.7, iso(T0 + 200_000))], events: [...next.events, { at: iso(T0 + 200_000), type: 'Warning', reason: 'SlowPods', message: 'canary pod not ready' }] };
    assert.equal(view.handle(delta(prev, next)), true);
    prev = next;
    next = nextSnapshot(prev, { weights: { requested: { canary: 100, baseline: 0, current: 0 }, actual: { canary: 100, baseline: 0, current: 0 } }, stage: { index: 2, count: 3 } });
    assert.equal(view.handle(delta(prev, next)), true);
    assert.equal(charts.trafficCreated, 1, 'the chart is not re-created');
    const last = charts.trafficCalls[charts.trafficCalls.length - 1];
    assert.equal(last.cols, firstCols, 'the same column arrays, grown');
    assert.equal(last.len, 52);
    assert.equal(root.querySelectorAll('[data-testid=checks] tr').length, 4);
    assert.match(root.querySelector('[data-testid=events] li')!.textContent!, /SlowPods/, 'newest event first');
    assert.match(text('[data-testid=weights]'), /^Actual: canary 100%/);
    assert.equal(text('[data-testid=stage]'), 'stage 3 of 3');
    assert.deepEqual(view.snapshot, wire(next));
  });

  it('follows the record\'s capped windows: dropped events and checks leave, the chart keeps its history', () => {
    const { view, root, charts } = setup();
    const a = canarySnapshot({ points: 20 });
    view.handle(full(a));
    const grown = nextSnapshot(a, {
      events: [...a.events, { at: iso(T0 + 300_000), type: 'Normal', reason: 'Newest', message: 'n' }],
      analysis: [...a.analysis, measurement(1, 1, 'successRate', 99.5, iso(T0 + 300_000))],
    });
    const b = { ...grown, timeline: grown.timeline.slice(1), events: grown.events.slice(1), analysis: grown.analysis.slice(1) };
    const msg = delta(a, b);
    assert.deepEqual(msg.type === 'delta' && msg.delta.drop, { timeline: 1, events: 1, analysis: 1 });
    assert.equal(view.handle(msg), true);
    const events = Array.from(root.querySelectorAll('[data-testid=events] li')).map((li) => li.textContent);
    assert.equal(events.length, 2);
    assert.match(events[0]!, /Newest/);
    assert.doesNotMatch(events.join('|'), /RolloutStarted/);
    const checks = Array.from(root.querySelectorAll('[data-testid=checks] tr'));
    assert.equal(checks.length, 3);
    assert.match(checks[2].textContent!, /99.5%/);
    assert.equal(charts.trafficCalls[charts.trafficCalls.length - 1].len, 21, 'the chart keeps the point the record dropped');
    assert.deepEqual(view.snapshot, wire(b));
  });

  it('moves a live chart\'s right edge with the clock, not a finished one\'s', () => {
    const { view, charts, q } = setup();
    const a = canarySnapshot({ points: 5 });
    view.handle(full(a));
    const until0 = Number(q('[data-testid=traffic-chart]').getAttribute('data-until'));
    assert.equal(until0, Date.parse(a.updatedAt) / 1000);
    const calls = charts.trafficCalls.length;
    view.tick(Date.now() + 60_000);
    assert.equal(charts.trafficCalls.length, calls + 1);
    // The engine's clock: its snapshot time plus the time since it arrived (within the test's own run time).
    const until1 = Number(q('[data-testid=traffic-chart]').getAttribute('data-until'));
    assert.ok(until1 >= until0 + 59 && until1 <= until0 + 61, String(until1 - until0));
    const done = { ...nextSnapshot(a), phase: 'succeeded' as const };
    view.handle(delta(a, done));
    const after = charts.trafficCalls.length;
    view.tick(Date.now() + 600_000);
    assert.equal(charts.trafficCalls.length, after, 'a finished run does not move');
  });

  it('asks for a resync instead of applying a delta with a seq gap', () => {
    const { view, posted } = setup();
    const a = canarySnapshot({ seq: 3 });
    view.handle(full(a));
    const b = nextSnapshot(a);
    const c = nextSnapshot(b);
    assert.equal(view.handle(delta(b, c)), false);
    assert.deepEqual(posted, [{ type: 'resync', key, haveSeq: 3 }]);
    assert.deepEqual(view.snapshot, wire(a));
  });

  it('ignores messages for another rollout and malformed ones', () => {
    const { view, text } = setup();
    assert.equal(view.handle({ type: 'snapshot', key: { pipeline: 'payments', environment: 'staging' }, snapshot: canarySnapshot(), protectedEnv: false }), false);
    assert.equal(view.handle({ type: 'delta', key }), false);
    assert.equal(view.handle('<img src=x onerror=alert(1)>'), false);
    assert.match(text('.loading'), /Loading checkout\/staging/);
  });

  it('puts snapshot text in as text, never as markup', () => {
    const { view, root } = setup();
    const s = canarySnapshot();
    view.handle(full({ ...s, reason: '<img src=x onerror="alert(1)">', events: [{ at: iso(T0), type: 'Normal', reason: '<b>x</b>', message: '<script>alert(1)</script>' }] }));
    assert.equal(root.querySelectorAll('img').length, 0);
    assert.equal(root.querySelectorAll('script').length, 0);
    assert.match(root.querySelector('[data-testid=reason]')!.textContent!, /<img src=x/);
  });

  it('keeps a test log open across re-renders', () => {
    const { view, root } = setup();
    const a = canarySnapshot({ failing: true });
    view.handle(full(a));
    const det = root.querySelector('[data-testid=tests] details[data-id="2:load"]')!;
    det.setAttribute('open', '');
    const b = nextSnapshot(a, { tests: a.tests.map((t) => ({ ...t, durationMs: 9000 })) });
    view.handle(delta(a, b));
    assert.equal(root.querySelector('[data-testid=tests] details[data-id="2:load"]')!.hasAttribute('open'), true);
  });

  it('reports every new snapshot for setState', () => {
    const { view, saved } = setup();
    const a = canarySnapshot();
    view.handle(full(a));
    const b = nextSnapshot(a);
    view.handle(delta(a, b));
    assert.deepEqual(saved.map((s) => s.seq), [1, 2]);
  });
});
