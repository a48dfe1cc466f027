// Cron schedules of analysis checks: exactly five fields (minute hour day-of-month month day-of-week).
// The field count is checked here (cron-parser would also accept a seconds field); the rest is
// cron-parser's judgement, loaded on first use so activation does not pay for it.

// Schedules repeat across stages, documents and keystrokes: remember verdicts (bounded).
const verdicts = new Map<string, string | undefined>();

export function cronError(expr: string): string | undefined {
  if (verdicts.has(expr)) return verdicts.get(expr);
  const verdict = judge(expr);
  if (verdicts.size > 500) verdicts.clear();
  verdicts.set(expr, verdict);
  return verdict;
}

function judge(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return `a schedule has 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  try {
    const { CronExpressionParser } = require('cron-parser') as typeof import('cron-parser');
    CronExpressionParser.parse(expr, { strict: false });
    return undefined;
  } catch (err) {
    return String((err as Error).message ?? err).replace(/\.$/, '');
  }
}

/** "every 5 minutes": the schedule in words, or undefined when cronstrue cannot say it. */
export function describeCron(expr: string): string | undefined {
  try {
    const cronstrue = require('cronstrue') as typeof import('cronstrue');
    const text = cronstrue.toString(expr, { use24HourTimeFormat: true, verbose: false });
    return text.charAt(0).toLowerCase() + text.slice(1);
  } catch {
    return undefined;
  }
}
