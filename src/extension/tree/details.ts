// Pure: what a pipeline node shows when expanded — versions, the current gate, the current stage's
// tests and analysis checks (values against thresholds) and past runs — as plain descriptors the tree
// turns into TreeItems. Kept free of `vscode` so unit tests cover every branch.
import type { Measurement, RolloutSnapshot, TestRun } from '../../engine/snapshot';
import { age, imageTag, versionDescription } from '../model/status';

export type DetailKind = 'error' | 'version' | 'gate' | 'test' | 'check' | 'history' | 'pastRun' | 'info';

export interface DetailDesc {
  /** Stable within the pipeline node (the tree prefixes it with the target key). */
  id: string;
  kind: DetailKind;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  color?: string;
  children?: DetailDesc[];
}

const METRIC_LABEL: Record<Measurement['metric'], string> = {
  successRate: 'success rate',
  latencyP50Ms: 'latency p50',
  latencyP99Ms: 'latency p99',
};

export function formatValue(metric: Measurement['metric'], v: number | null | undefined): string {
  if (v === null || v === undefined) return 'no data';
  return metric === 'successRate' ? `${Math.round(v * 100) / 100}%` : `${Math.round(v * 10) / 10} ms`;
}

export function checkLine(m: Measurement): string {
  const op = m.comparator === 'min' ? '≥' : '≤';
  const base = m.baselineValue !== undefined && m.baselineValue !== null ? ` (baseline ${formatValue(m.metric, m.baselineValue)})` : '';
  // An inconclusive check says how short of the minimum it was: "60 of 100 requests".
  const verdict = m.verdict === 'inconclusive' && typeof m.requests?.canary === 'number' ? `too few requests (${m.requests.canary} of ${m.requests.min})` : m.verdict;
  return `${formatValue(m.metric, m.value)} ${m.verdict === 'pass' ? op : m.verdict === 'fail' ? '✗' : '?'} ${formatValue(m.metric, m.threshold)}${base} · ${verdict}`;
}

function verdictIcon(v: Measurement['verdict']): [string, string | undefined] {
  switch (v) {
    case 'pass':
      return ['pass', 'testing.iconPassed'];
    case 'fail':
      return ['error', 'testing.iconFailed'];
    case 'noData':
    case 'inconclusive':
      return ['question', 'charts.yellow'];
    default:
      return ['warning', 'list.warningForeground'];
  }
}

function testIcon(t: TestRun): [string, string | undefined] {
  switch (t.status) {
    case 'passed':
      return ['pass', 'testing.iconPassed'];
    case 'failed':
    case 'timedOut':
      return ['error', 'testing.iconFailed'];
    case 'running':
      return ['loading~spin', undefined];
    default:
      return ['circle-large-outline', undefined];
  }
}

export function durationText(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${Math.round(s * 10) / 10} s` : `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
}

/** The stage whose tests/checks to show: the current one, or -1 for strategies with one test phase. */
function stageOf(s: RolloutSnapshot): number {
  return s.stage.index;
}

export function pipelineDetails(s: RolloutSnapshot | undefined, error: string | undefined, now: number): DetailDesc[] {
  const out: DetailDesc[] = [];
  if (error) out.push({ id: 'error', kind: 'error', label: 'error', description: error, tooltip: error, icon: 'error', color: 'errorForeground' });
  if (!s) {
    if (!error) out.push({ id: 'loading', kind: 'info', label: 'loading…', icon: 'loading~spin' });
    return out;
  }
  if (s.error) {
    out.push({ id: 'error', kind: 'error', label: s.error.kind, description: s.error.message, tooltip: s.error.message, icon: 'error', color: 'errorForeground' });
  }
  for (const v of s.versions) {
    out.push({
      id: `version/${v.role}`,
      kind: 'version',
      label: v.role,
      description: versionDescription(v),
      tooltip: `${v.deployment}: ${v.image}\n${v.ready}/${v.desired} ready, ${v.updated} updated, ${v.available} available`,
      icon: v.ready >= v.desired && v.desired > 0 ? 'vm-active' : v.desired === 0 ? 'vm-outline' : 'vm-running',
      color: v.ready < v.desired ? 'charts.yellow' : undefined,
    });
  }
  if (s.gate) {
    const since = age(s.gate.since, now);
    out.push({
      id: 'gate',
      kind: 'gate',
      label: `gate: ${s.gate.kind}`,
      description: `${s.gate.message}${since ? ` · since ${since}` : ''}`,
      tooltip: `${s.gate.message}\nsince ${s.gate.since}${s.gate.nextCheckAt ? `\nnext check at ${s.gate.nextCheckAt}` : ''}`,
      icon: s.gate.kind === 'manual' ? 'bell-dot' : 'watch',
    });
  }
  const stage = stageOf(s);
  const tests = s.tests.filter((t) => t.stage === stage || t.stage === -1);
  for (const t of tests) {
    const [icon, color] = testIcon(t);
    const dur = durationText(t.durationMs);
    out.push({
      id: `test/${t.stage}/${t.name}`,
      kind: 'test',
      label: `test ${t.name}`,
      description: [t.status, dur, t.message].filter(Boolean).join(' · '),
      tooltip: [t.message, t.logExcerpt].filter(Boolean).join('\n\n') || undefined,
      icon,
      color,
    });
  }
  for (const m of s.analysis.filter((x) => x.stage === stage)) {
    const [icon, color] = verdictIcon(m.verdict);
    out.push({
      id: `check/${m.stage}/${m.check}/${m.metric}`,
      kind: 'check',
      label: `check ${m.check} · ${METRIC_LABEL[m.metric]}`,
      description: checkLine(m),
      tooltip: `${m.message}\nquery: ${m.query}\nat ${m.at}`,
      icon,
      color,
    });
  }
  if (s.history.length) {
    out.push({
      id: 'history',
      kind: 'history',
      label: 'past runs',
      description: String(s.history.length),
      icon: 'history',
      children: s.history.map((r) => ({
        id: `run/${r.runId}`,
        kind: 'pastRun' as const,
        label: imageTag(r.image),
        description: `${r.phase}${r.reason ? ` · ${r.reason}` : ''} · ${age(r.finishedAt ?? r.startedAt, now)}`,
        tooltip: `${r.fromImage} → ${r.image}\n${r.phase}: ${r.reason}\nstarted ${r.startedAt}${r.finishedAt ? `\nfinished ${r.finishedAt}` : ''}`,
        icon: r.phase === 'succeeded' ? 'pass' : r.phase === 'idle' ? 'circle-large-outline' : 'error',
        color: r.phase === 'succeeded' ? 'testing.iconPassed' : 'testing.iconFailed',
      })),
    });
  }
  return out;
}
