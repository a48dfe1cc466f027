// Pure: a failed gate becomes a problem on the deploy-file line that caused it — the analysis
// threshold a check failed against, the stage whose test failed — with the measured value, e.g.
// "rolled back: success rate 91.2% < 99%, check 2 of 3 at 10:42". Problems exist only while the
// run's phase is rolledBack/failed, so a new run clears them.
import type { Range } from '../../deployfile/model';
import type { RolloutSnapshot } from '../../engine/snapshot';
import type { ResolvedTarget } from '../model/targets';

export interface GateProblem {
  file: string;
  range: Range;
  message: string;
  severity: 'error' | 'warning';
}

export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function gateProblems(target: ResolvedTarget, s: RolloutSnapshot | undefined): GateProblem[] {
  if (!s || (s.phase !== 'rolledBack' && s.phase !== 'failed')) return [];
  const p = target.pipelineModel;
  const prefix = s.phase === 'rolledBack' ? 'rolled back' : 'failed';
  const where = `${target.pipeline} → ${target.environment}`;
  const out: GateProblem[] = [];
  const strategy = p.strategy;
  const stageRange = (stage: number): Range => {
    if (strategy.type === 'canary') return strategy.stages[stage]?.range ?? strategy.range;
    return strategy.range;
  };
  const failedChecks = s.analysis.filter((m) => m.verdict === 'fail');
  // The check that decided the outcome is the last failing one; earlier failures within the failure
  // limit are history and would only repeat the message.
  const decisive = failedChecks.at(-1);
  if (decisive) {
    const analysis = strategy.type === 'canary' ? strategy.stages[decisive.stage]?.analysis : strategy.type === 'blueGreen' ? strategy.analysis : undefined;
    const range = analysis?.thresholdRanges[decisive.metric] ?? analysis?.range ?? stageRange(decisive.stage);
    const needed = analysis?.checks;
    out.push({
      file: p.file,
      range,
      severity: 'error',
      message: `${prefix}: ${decisive.message}, check ${decisive.check}${needed ? ` of ${needed}` : ''} at ${clock(decisive.at)} (${where})`,
    });
  }
  for (const t of s.tests.filter((x) => x.status === 'failed' || x.status === 'timedOut')) {
    const spec = p.tests[t.name];
    const range = t.stage >= 0 ? stageRange(t.stage) : spec?.range ?? strategy.range;
    out.push({
      file: p.file,
      range,
      severity: 'error',
      message: `${prefix}: test ${t.name} ${t.status === 'timedOut' ? 'timed out' : 'failed'}${t.message ? ` (${t.message})` : ''}${t.finishedAt ? ` at ${clock(t.finishedAt)}` : ''} (${where})`,
    });
  }
  if (!out.length) {
    out.push({ file: p.file, range: target.environmentModel.range, severity: 'error', message: `${prefix}: ${s.reason || 'the run did not complete'} (${where})` });
  }
  return out;
}
