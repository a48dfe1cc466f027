// Pure: the Testing view's items and outcomes for one rollout snapshot — each stage test (a
// Kubernetes Job) and each analysis check becomes an item with passed/failed, a duration and a
// message showing expected against actual.
import type { Measurement, RolloutSnapshot, TestRun } from '../../engine/snapshot';
import { checkLine, formatValue } from '../tree/details';

export type Outcome = 'passed' | 'failed' | 'errored' | 'running' | 'enqueued' | 'skipped';

export interface ResultItem {
  /** Relative to the target's item. */
  id: string;
  label: string;
  kind: 'test' | 'check';
  testName?: string;
  stage: number;
  metric?: Measurement['metric'];
  outcome: Outcome;
  durationMs?: number;
  message?: string;
  expected?: string;
  actual?: string;
  /** Changes whenever the item must be reported again. */
  signature: string;
}

export function stageLabel(stage: number): string {
  return stage < 0 ? 'pre-switch' : `stage ${stage + 1}`;
}

function testOutcome(t: TestRun): Outcome {
  switch (t.status) {
    case 'passed':
      return 'passed';
    case 'failed':
    case 'timedOut':
      return 'failed';
    case 'running':
      return 'running';
    default:
      return 'enqueued';
  }
}

function checkOutcome(m: Measurement): Outcome {
  switch (m.verdict) {
    case 'pass':
      return 'passed';
    case 'fail':
      return 'failed';
    case 'noData':
      return 'skipped';
    default:
      return 'errored';
  }
}

export function resultItems(s: RolloutSnapshot): ResultItem[] {
  const out: ResultItem[] = [];
  for (const t of s.tests) {
    const outcome = testOutcome(t);
    out.push({
      id: `test/${t.stage}/${t.name}`,
      label: `${stageLabel(t.stage)} · test ${t.name}`,
      kind: 'test',
      testName: t.name,
      stage: t.stage,
      outcome,
      durationMs: t.durationMs,
      message: [t.message, t.logExcerpt].filter(Boolean).join('\n\n') || undefined,
      expected: outcome === 'failed' ? 'Job completes successfully' : undefined,
      actual: outcome === 'failed' ? `${t.status === 'timedOut' ? 'timed out' : 'failed'}${t.message ? `: ${t.message}` : ''}` : undefined,
      signature: `${s.runId}|${t.status}|${t.finishedAt ?? ''}|${t.job ?? ''}`,
    });
  }
  for (const m of s.analysis) {
    const outcome = checkOutcome(m);
    const op = m.comparator === 'min' ? '≥' : '≤';
    out.push({
      id: `check/${m.stage}/${m.check}/${m.metric}`,
      label: `${stageLabel(m.stage)} · check ${m.check} · ${m.metric}`,
      kind: 'check',
      stage: m.stage,
      metric: m.metric,
      outcome,
      message: `${m.message || checkLine(m)}\nquery: ${m.query}`,
      expected: `${op} ${formatValue(m.metric, m.threshold)}`,
      actual: formatValue(m.metric, m.value),
      signature: `${s.runId}|${m.verdict}|${m.at}`,
    });
  }
  return out;
}
