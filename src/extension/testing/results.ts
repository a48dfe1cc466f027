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
  /** For tests: the attempt shown (re-runs add attempts; the latest is the test's verdict). */
  attempt?: number;
  /** For tests: the Job of the attempt shown. */
  job?: string;
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
    case 'inconclusive':
      return 'skipped';
    default:
      return 'errored';
  }
}

/**
 * The latest attempt of each test of each stage, in the snapshot's order of first appearance. A re-run
 * (RolloutService.rerunTest) appends an attempt; the item shows the latest, earlier ones are history.
 */
export function latestAttempts(tests: readonly TestRun[]): TestRun[] {
  const latest = new Map<string, TestRun>();
  for (const t of tests) {
    const k = `${t.stage}/${t.name}`;
    const prev = latest.get(k);
    if (!prev || (t.attempt ?? 1) >= (prev.attempt ?? 1)) latest.set(k, t);
  }
  return [...latest.values()];
}

/** A finished attempt (passed, failed or timed out) of a test, if the snapshot has it. */
export function finishedAttempt(s: RolloutSnapshot, test: { name: string; stage: number; attempt: number; job?: string }): TestRun | undefined {
  return s.tests.find(
    (t) =>
      t.name === test.name &&
      t.stage === test.stage &&
      (t.attempt ?? 1) === test.attempt &&
      (!test.job || !t.job || t.job === test.job) &&
      (t.status === 'passed' || t.status === 'failed' || t.status === 'timedOut'),
  );
}

export function resultItems(s: RolloutSnapshot): ResultItem[] {
  const out: ResultItem[] = [];
  for (const t of latestAttempts(s.tests)) {
    const outcome = testOutcome(t);
    const attempt = t.attempt ?? 1;
    out.push({
      id: `test/${t.stage}/${t.name}`,
      label: `${stageLabel(t.stage)} · test ${t.name}`,
      kind: 'test',
      testName: t.name,
      stage: t.stage,
      attempt,
      job: t.job,
      outcome,
      durationMs: t.durationMs,
      message: [attempt > 1 ? `attempt ${attempt}${t.job ? ` (Job ${t.job})` : ''}` : undefined, t.message, t.logExcerpt].filter(Boolean).join('\n\n') || undefined,
      expected: outcome === 'failed' ? 'Job completes successfully' : undefined,
      actual: outcome === 'failed' ? `${t.status === 'timedOut' ? 'timed out' : 'failed'}${t.message ? `: ${t.message}` : ''}` : undefined,
      signature: `${s.runId}|${attempt}|${t.status}|${t.finishedAt ?? ''}|${t.job ?? ''}`,
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
