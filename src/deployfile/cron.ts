// Cron schedules of analysis checks: exactly five fields (minute hour day-of-month month day-of-week).
// The common forms (`*`, `*/n`, numbers, names, ranges, steps, lists) are judged here; anything else
// (L, W, #, ?, H, duplicate list values) goes to cron-parser, which is loaded only then: it costs more
// than 100 ms to load, more than all the rest of a first validation. A property test checks that
// the verdicts here match cron-parser's.

interface Field { name: string; min: number; max: number; names?: string[] }

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ITEM = /^(?:(\*)|(\d+|[A-Za-z]{3})(?:-(\d+|[A-Za-z]{3}))?)(?:\/(\d+))?$/;
const DELEGATE = Symbol('delegate');

// Schedules repeat across stages, documents and keystrokes: remember verdicts (bounded).
const verdicts = new Map<string, string | undefined>();

export function cronError(expr: string): string | undefined {
  if (verdicts.has(expr)) return verdicts.get(expr);
  const fields = expr.trim().split(/\s+/).filter(Boolean);
  let verdict: string | undefined;
  if (fields.length !== 5) {
    verdict = `a schedule has 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  } else {
    const own = judge(fields);
    verdict = own === DELEGATE ? cronParserError(expr) : own;
  }
  if (verdicts.size > 500) verdicts.clear();
  verdicts.set(expr, verdict);
  return verdict;
}

function value(token: string, f: Field): number | typeof DELEGATE {
  if (/^\d+$/.test(token)) return Number(token);
  const i = f.names?.indexOf(token.toUpperCase()) ?? -1;
  if (i === -1) return DELEGATE;
  return f.name === 'month' ? i + 1 : i;
}

/** The field's values, an error message, or DELEGATE for forms left to cron-parser. */
function expand(text: string, f: Field): Set<number> | string | typeof DELEGATE {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = ITEM.exec(item);
    if (!m) return DELEGATE;
    const [, star, a, b, stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step === 0) return `the step in \`${item}\` (${f.name}) must be more than 0`;
    let lo = f.min;
    let hi = f.max;
    if (!star) {
      const from = value(a, f);
      if (from === DELEGATE) return DELEGATE;
      const to = b === undefined ? (stepText === undefined ? from : f.max) : value(b, f);
      if (to === DELEGATE) return DELEGATE;
      for (const v of [from, to]) {
        if (v < f.min || v > f.max) return `${v} is outside ${f.min}-${f.max} for the ${f.name} field`;
      }
      if (from > to) return `the range \`${item}\` (${f.name}) goes backwards`;
      lo = from;
      hi = to;
    }
    for (let v = lo; v <= hi; v += step) {
      // cron-parser rejects a value listed twice; let it word that itself.
      if (out.has(v)) return DELEGATE;
      out.add(v);
    }
  }
  return out;
}

function judge(fields: string[]): string | undefined | typeof DELEGATE {
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const r = expand(fields[i], FIELDS[i]);
    if (r === DELEGATE || typeof r === 'string') return r;
    sets.push(r);
  }
  // Like cron-parser: a day of month that no selected month has (`31` in April, `30` in February).
  if (fields[2] !== '*' && fields[3] !== '*') {
    const minDay = Math.min(...sets[2]);
    if (![...sets[3]].some((m) => minDay <= DAYS_IN_MONTH[m - 1])) {
      return `no selected month has day ${minDay}`;
    }
  }
  return undefined;
}

function cronParserError(expr: string): string | undefined {
  try {
    const { CronExpressionParser } = require('cron-parser') as typeof import('cron-parser');
    // `H` picks a hashed value, at random unless seeded: seeded with the expression itself, as the engine
    // seeds it (nextCheckAt), so a verdict never changes between two validations or from the schedule run.
    CronExpressionParser.parse(expr, { strict: false, hashSeed: expr });
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
