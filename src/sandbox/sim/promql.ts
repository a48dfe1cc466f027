// A documented subset of PromQL, parsed with Prometheus's own grammar (@prometheus-io/lezer-promql)
// and evaluated against the sandbox's time-series database. Anything outside the subset is an error
// in Prometheus's shape, never a silently wrong number. Supported (see docs/sandbox.md):
// - number and string literals, unary minus/plus, parentheses
// - vector selectors with `=`, `!=`, `=~`, `!~` matchers (incl. `{__name__=~"..."}`), `offset`
// - range selectors `x[5m]` as function arguments
// - functions: rate, irate, increase, delta, idelta, histogram_quantile, {avg,min,max,sum,count,last}_over_time,
//   abs, ceil, floor, round, sqrt, exp, ln, log2, log10, clamp, clamp_min, clamp_max, scalar, vector, time, absent
// - aggregations: sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile (by / without)
// - binary operators + - * / % ^ atan2, comparisons == != > < >= <= (with or without `bool`), and / or / unless,
//   with on / ignoring and group_left / group_right
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { Tsdb, type LabelMatcher, type Labels, labelsKey, type Sample } from './tsdb';

export class PromQLError extends Error {
  constructor(
    message: string,
    readonly errorType: 'bad_data' | 'execution' = 'bad_data',
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// AST

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'selector'; name?: string; matchers: LabelMatcher[]; offsetMs: number }
  | { kind: 'matrix'; selector: Extract<Expr, { kind: 'selector' }>; rangeMs: number }
  | { kind: 'call'; fn: string; args: Expr[] }
  | { kind: 'aggregate'; op: string; param?: Expr; expr: Expr; grouping: string[]; without: boolean }
  | { kind: 'unary'; op: '-' | '+'; expr: Expr }
  | { kind: 'binary'; op: string; lhs: Expr; rhs: Expr; bool: boolean; matching?: VectorMatching };

export interface VectorMatching {
  on: boolean;
  labels: string[];
  card: 'one-to-one' | 'many-to-one' | 'one-to-many';
  include: string[];
}

type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

const BINARY_OPS: Record<string, string> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/', Mod: '%', Pow: '^', Atan2: 'atan2',
  Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=',
  And: 'and', Or: 'or', Unless: 'unless',
};
const COMPARISON = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS = new Set(['and', 'or', 'unless']);

interface FnSig {
  args: ValueType[];
  /** Number of trailing optional args. */
  optional?: number;
  ret: ValueType;
}

const FUNCTIONS: Record<string, FnSig> = {
  rate: { args: ['matrix'], ret: 'vector' },
  irate: { args: ['matrix'], ret: 'vector' },
  increase: { args: ['matrix'], ret: 'vector' },
  delta: { args: ['matrix'], ret: 'vector' },
  idelta: { args: ['matrix'], ret: 'vector' },
  avg_over_time: { args: ['matrix'], ret: 'vector' },
  min_over_time: { args: ['matrix'], ret: 'vector' },
  max_over_time: { args: ['matrix'], ret: 'vector' },
  sum_over_time: { args: ['matrix'], ret: 'vector' },
  count_over_time: { args: ['matrix'], ret: 'vector' },
  last_over_time: { args: ['matrix'], ret: 'vector' },
  histogram_quantile: { args: ['scalar', 'vector'], ret: 'vector' },
  abs: { args: ['vector'], ret: 'vector' },
  ceil: { args: ['vector'], ret: 'vector' },
  floor: { args: ['vector'], ret: 'vector' },
  round: { args: ['vector', 'scalar'], optional: 1, ret: 'vector' },
  sqrt: { args: ['vector'], ret: 'vector' },
  exp: { args: ['vector'], ret: 'vector' },
  ln: { args: ['vector'], ret: 'vector' },
  log2: { args: ['vector'], ret: 'vector' },
  log10: { args: ['vector'], ret: 'vector' },
  clamp: { args: ['vector', 'scalar', 'scalar'], ret: 'vector' },
  clamp_min: { args: ['vector', 'scalar'], ret: 'vector' },
  clamp_max: { args: ['vector', 'scalar'], ret: 'vector' },
  scalar: { args: ['vector'], ret: 'scalar' },
  vector: { args: ['scalar'], ret: 'vector' },
  time: { args: [], ret: 'scalar' },
  absent: { args: ['vector'], ret: 'vector' },
};

const AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile']);

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses a query into the supported AST or throws a PromQLError saying what is wrong or unsupported. */
export function parsePromQL(query: string): Expr {
  if (!query.trim()) throw new PromQLError('parse error: no expression found in input');
  const tree = parser.parse(query);
  let firstError: SyntaxNode | undefined;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError && !firstError) firstError = n.node;
    },
  });
  if (firstError) {
    const pos = position(query, firstError.from);
    const near = query.slice(firstError.from, firstError.from + 12);
    throw new PromQLError(`${pos}: parse error: unexpected ${near ? `"${near}"` : 'end of input'}`);
  }
  const top = tree.topNode.firstChild;
  if (!top) throw new PromQLError('parse error: no expression found in input');
  const expr = build(top, query);
  typeOf(expr);
  return expr;
}

function position(q: string, at: number): string {
  const before = q.slice(0, at);
  const line = before.split('\n').length;
  const col = at - before.lastIndexOf('\n');
  return `${line}:${col}`;
}

function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function text(n: SyntaxNode, q: string): string {
  return q.slice(n.from, n.to);
}

function unsupported(what: string): never {
  throw new PromQLError(`unsupported in the sandbox's PromQL subset: ${what}`);
}

function build(n: SyntaxNode, q: string): Expr {
  switch (n.type.name) {
    case 'ParenExpr': {
      const inner = children(n)[0];
      if (!inner) throw new PromQLError('parse error: empty parentheses');
      return build(inner, q);
    }
    case 'NumberDurationLiteral':
      return { kind: 'number', value: parseNumber(text(n, q)) };
    case 'StringLiteral':
      return { kind: 'string', value: unquote(text(n, q)) };
    case 'UnaryExpr': {
      const [op, e] = children(n);
      return { kind: 'unary', op: text(op, q) === '-' ? '-' : '+', expr: build(e, q) };
    }
    case 'VectorSelector':
      return buildSelector(n, q);
    case 'MatrixSelector': {
      const [sel, dur] = children(n);
      const selector = build(sel, q);
      if (selector.kind !== 'selector') throw new PromQLError('ranges only allowed for vector selectors');
      return { kind: 'matrix', selector, rangeMs: parseDurationNode(dur, q) };
    }
    case 'OffsetExpr': {
      const [e, , d] = children(n);
      const inner = build(e, q);
      const off = parseDurationNode(d, q);
      const target = inner.kind === 'matrix' ? inner.selector : inner.kind === 'selector' ? inner : undefined;
      if (!target) throw new PromQLError('offset modifier must be preceded by an instant vector selector or range vector selector');
      target.offsetMs = off;
      return inner;
    }
    case 'FunctionCall': {
      const [ident, body] = children(n);
      const fn = text(ident, q);
      if (!FUNCTIONS[fn]) unsupported(`function ${fn}()`);
      const args = body ? children(body).map((c) => build(c, q)) : [];
      return { kind: 'call', fn, args };
    }
    case 'AggregateExpr': {
      let op = '';
      let grouping: string[] = [];
      let without = false;
      let args: Expr[] = [];
      for (const c of children(n)) {
        if (c.type.name === 'AggregateOp') op = text(c, q);
        else if (c.type.name === 'AggregateModifier') {
          const [kw, labels] = children(c);
          without = kw.type.name === 'Without';
          grouping = labels ? groupingLabels(labels, q) : [];
        } else if (c.type.name === 'FunctionCallBody') args = children(c).map((a) => build(a, q));
      }
      if (!AGGREGATIONS.has(op)) unsupported(`aggregation ${op}()`);
      const needsParam = op === 'topk' || op === 'bottomk' || op === 'quantile';
      if (args.length !== (needsParam ? 2 : 1)) throw new PromQLError(`wrong number of arguments for aggregate expression provided, expected ${needsParam ? 2 : 1}, got ${args.length}`);
      return needsParam ? { kind: 'aggregate', op, param: args[0], expr: args[1], grouping, without } : { kind: 'aggregate', op, expr: args[0], grouping, without };
    }
    case 'BinaryExpr': {
      const cs = children(n);
      const lhs = build(cs[0], q);
      const rhs = build(cs[cs.length - 1], q);
      const opName = cs[1].type.name;
      const op = BINARY_OPS[opName];
      if (!op) unsupported(`operator ${text(cs[1], q)}`);
      let bool = false;
      let matching: VectorMatching | undefined;
      for (const c of cs.slice(2, -1)) {
        if (c.type.name === 'BoolModifier') bool = true;
        else if (c.type.name === 'MatchingModifierClause') matching = buildMatching(c, q);
        else unsupported(`binary modifier ${text(c, q)}`);
      }
      if (bool && !COMPARISON.has(op)) throw new PromQLError('bool modifier can only be used on comparison operators');
      return { kind: 'binary', op, lhs, rhs, bool, matching };
    }
    case 'SubqueryExpr':
      return unsupported('subqueries');
    case 'StepInvariantExpr':
      return unsupported('the @ modifier');
    default:
      return unsupported(`${n.type.name} (${text(n, q)})`);
  }
}

function buildMatching(n: SyntaxNode, q: string): VectorMatching {
  const m: VectorMatching = { on: false, labels: [], card: 'one-to-one', include: [] };
  let afterGroup = false;
  for (const c of children(n)) {
    switch (c.type.name) {
      case 'On':
        m.on = true;
        break;
      case 'Ignoring':
        m.on = false;
        break;
      case 'GroupLeft':
        m.card = 'many-to-one';
        afterGroup = true;
        break;
      case 'GroupRight':
        m.card = 'one-to-many';
        afterGroup = true;
        break;
      case 'GroupingLabels':
        if (afterGroup) m.include = groupingLabels(c, q);
        else m.labels = groupingLabels(c, q);
        break;
      default:
        unsupported(`matching modifier ${text(c, q)}`);
    }
  }
  return m;
}

function groupingLabels(n: SyntaxNode, q: string): string[] {
  return children(n).map((c) => (c.type.name === 'QuotedLabelName' ? unquote(text(c, q)) : text(c, q)));
}

function buildSelector(n: SyntaxNode, q: string): Extract<Expr, { kind: 'selector' }> {
  let name: string | undefined;
  const matchers: LabelMatcher[] = [];
  for (const c of children(n)) {
    if (c.type.name === 'Identifier') name = text(c, q);
    else if (c.type.name === 'LabelMatchers') {
      for (const m of children(c)) {
        const parts = children(m);
        if (m.type.name === 'QuotedLabelName') {
          // `{"metric_name"}`: a quoted metric name inside the braces.
          name = unquote(text(m, q));
          continue;
        }
        const [ln, op, value] = parts;
        const labelName = ln.type.name === 'QuotedLabelName' ? unquote(text(ln, q)) : text(ln, q);
        matchers.push({ name: labelName, type: text(op, q) as LabelMatcher['type'], value: unquote(text(value, q)) });
      }
    }
  }
  if (name !== undefined) matchers.unshift({ name: '__name__', type: '=', value: name });
  // Prometheus refuses selectors that would match every series.
  const nonEmpty = matchers.some((m) => {
    if (m.type === '=' || m.type === '!~') return m.value !== '';
    if (m.type === '=~') {
      try {
        return !new RegExp(`^(?:${m.value})$`).test('');
      } catch {
        return true;
      }
    }
    return m.value === '';
  });
  if (!nonEmpty) throw new PromQLError('vector selector must contain at least one non-empty matcher');
  for (const m of matchers) {
    if (m.type === '=~' || m.type === '!~') {
      try {
        new RegExp(m.value);
      } catch (e) {
        throw new PromQLError(`invalid regular expression in matcher ${m.name}${m.type}"${m.value}": ${(e as Error).message}`);
      }
    }
  }
  return { kind: 'selector', name, matchers, offsetMs: 0 };
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  if (t === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t, 16);
  if (/^[0-9.]+(e[+-]?\d+)?$/.test(t)) return Number(t);
  // Durations are numbers of seconds in newer PromQL.
  return parseDuration(s) / 1000;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0) {
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
    throw new PromQLError(`bad duration "${s}"`);
  }
  return total;
}

function parseDurationNode(n: SyntaxNode, q: string): number {
  const cs = children(n);
  if (n.type.name === 'OffsetDurationExpr' && cs[0]?.type.name === 'UnaryOp') {
    const sign = text(cs[0], q) === '-' ? -1 : 1;
    return sign * parseDurationNode(cs[1], q);
  }
  if (cs.length === 1 && cs[0].type.name.startsWith('NumberDurationLiteral')) return parseDuration(text(cs[0], q));
  if (n.type.name.startsWith('NumberDurationLiteral')) return parseDuration(text(n, q));
  return unsupported(`duration expression ${text(n, q)}`);
}

function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  const quote = s[0];
  const body = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const nx = body[++i];
    switch (nx) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      default: out += `\\${nx}`; // keep regex escapes like \d intact
    }
  }
  void quote;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Type checking (so `rate(x)` or `sum(x[5m])` fail like in Prometheus, before evaluation)

function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'selector':
      return 'vector';
    case 'matrix':
      return 'matrix';
    case 'unary': {
      const t = typeOf(e.expr);
      if (t !== 'scalar' && t !== 'vector') throw new PromQLError(`unary expression only allowed on expressions of type scalar or instant vector, got ${typeName(t)}`);
      return t;
    }
    case 'call': {
      const sig = FUNCTIONS[e.fn];
      const min = sig.args.length - (sig.optional ?? 0);
      if (e.args.length < min || e.args.length > sig.args.length) {
        throw new PromQLError(`expected ${sig.args.length} argument(s) in call to "${e.fn}", got ${e.args.length}`);
      }
      e.args.forEach((a, i) => {
        const t = typeOf(a);
        if (t !== sig.args[i]) throw new PromQLError(`expected type ${typeName(sig.args[i])} in call to function "${e.fn}", got ${typeName(t)}`);
      });
      return sig.ret;
    }
    case 'aggregate': {
      const t = typeOf(e.expr);
      if (t !== 'vector') throw new PromQLError(`expected type instant vector in aggregation expression, got ${typeName(t)}`);
      if (e.param && typeOf(e.param) !== 'scalar') throw new PromQLError(`expected type scalar in aggregation parameter, got ${typeName(typeOf(e.param))}`);
      return 'vector';
    }
    case 'binary': {
      const l = typeOf(e.lhs);
      const r = typeOf(e.rhs);
      for (const t of [l, r]) if (t !== 'scalar' && t !== 'vector') throw new PromQLError(`binary expression must contain only scalar and instant vector types`);
      if (SET_OPS.has(e.op) && (l !== 'vector' || r !== 'vector')) throw new PromQLError(`set operator "${e.op}" not allowed in binary scalar expression`);
      if (COMPARISON.has(e.op) && l === 'scalar' && r === 'scalar' && !e.bool) throw new PromQLError('comparisons between scalars must use BOOL modifier');
      if (e.matching && (l !== 'vector' || r !== 'vector')) throw new PromQLError('vector matching only allowed between instant vectors');
      return l === 'scalar' && r === 'scalar' ? 'scalar' : 'vector';
    }
  }
}

function typeName(t: ValueType): string {
  return t === 'vector' ? 'instant vector' : t === 'matrix' ? 'range vector' : t;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export interface VectorSample {
  labels: Labels;
  v: number;
}

export type Value =
  | { type: 'scalar'; v: number }
  | { type: 'string'; v: string }
  | { type: 'vector'; samples: VectorSample[] }
  | { type: 'matrix'; series: { labels: Labels; points: Sample[] }[] };

/** How far back an instant selector looks for the latest sample (Prometheus default 5 m). */
export const LOOKBACK_MS = 5 * 60_000;

export class Evaluator {
  constructor(private readonly db: Tsdb) {}

  /** Evaluates `expr` at time `t` (ms). */
  eval(e: Expr, t: number): Value {
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', v: e.value };
      case 'string':
        return { type: 'string', v: e.value };
      case 'selector':
        return { type: 'vector', samples: this.instant(e, t) };
      case 'matrix':
        return { type: 'matrix', series: this.rangeSel(e, t) };
      case 'unary': {
        const v = this.eval(e.expr, t);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', v: -v.v };
        if (v.type === 'vector') return { type: 'vector', samples: v.samples.map((s) => ({ labels: dropName(s.labels), v: -s.v })) };
        throw new PromQLError('unary minus on a non-numeric value');
      }
      case 'call':
        return this.call(e, t);
      case 'aggregate':
        return { type: 'vector', samples: this.aggregate(e, t) };
      case 'binary':
        return this.binary(e, t);
    }
  }

  private instant(sel: Extract<Expr, { kind: 'selector' }>, t: number): VectorSample[] {
    const at = t - sel.offsetMs;
    const out: VectorSample[] = [];
    for (const s of this.db.select(sel.matchers)) {
      const last = s.latest(at - LOOKBACK_MS, at);
      if (!last) continue;
      if (s.staleAt !== undefined && s.staleAt <= at && last.t <= s.staleAt) continue;
      out.push({ labels: s.labels, v: last.v });
    }
    return out;
  }

  private rangeSel(m: Extract<Expr, { kind: 'matrix' }>, t: number): { labels: Labels; points: Sample[] }[] {
    const at = t - m.selector.offsetMs;
    const out: { labels: Labels; points: Sample[] }[] = [];
    for (const s of this.db.select(m.selector.matchers)) {
      const points = s.range(at - m.rangeMs, at);
      if (points.length) out.push({ labels: s.labels, points });
    }
    return out;
  }

  private call(e: Extract<Expr, { kind: 'call' }>, t: number): Value {
    const fn = e.fn;
    const vec = (i: number): VectorSample[] => expectVector(this.eval(e.args[i], t));
    const num = (i: number): number => expectScalar(this.eval(e.args[i], t));
    const mapV = (f: (v: number) => number): Value => ({ type: 'vector', samples: vec(0).map((s) => ({ labels: dropName(s.labels), v: f(s.v) })) });
    switch (fn) {
      case 'rate':
      case 'increase':
      case 'delta':
      case 'irate':
      case 'idelta':
      case 'avg_over_time':
      case 'min_over_time':
      case 'max_over_time':
      case 'sum_over_time':
      case 'count_over_time':
      case 'last_over_time': {
        const m = e.args[0] as Extract<Expr, { kind: 'matrix' }>;
        const out: VectorSample[] = [];
        for (const s of this.rangeSel(m, t)) {
          const v = overTime(fn, s.points, t - m.selector.offsetMs, m.rangeMs);
          if (v !== undefined) out.push({ labels: fn === 'last_over_time' ? s.labels : dropName(s.labels), v });
        }
        return { type: 'vector', samples: out };
      }
      case 'histogram_quantile':
        return { type: 'vector', samples: histogramQuantile(num(0), vec(1)) };
      case 'abs':
        return mapV(Math.abs);
      case 'ceil':
        return mapV(Math.ceil);
      case 'floor':
        return mapV(Math.floor);
      case 'round': {
        const to = e.args.length > 1 ? num(1) : 1;
        return mapV((v) => Math.floor(v / to + 0.5) * to);
      }
      case 'sqrt':
        return mapV(Math.sqrt);
      case 'exp':
        return mapV(Math.exp);
      case 'ln':
        return mapV(Math.log);
      case 'log2':
        return mapV(Math.log2);
      case 'log10':
        return mapV(Math.log10);
      case 'clamp': {
        const lo = num(1);
        const hi = num(2);
        if (lo > hi) return { type: 'vector', samples: [] };
        return mapV((v) => Math.max(lo, Math.min(hi, v)));
      }
      case 'clamp_min': {
        const lo = num(1);
        return mapV((v) => Math.max(lo, v));
      }
      case 'clamp_max': {
        const hi = num(1);
        return mapV((v) => Math.min(hi, v));
      }
      case 'scalar': {
        const v = vec(0);
        return { type: 'scalar', v: v.length === 1 ? v[0].v : NaN };
      }
      case 'vector':
        return { type: 'vector', samples: [{ labels: {}, v: num(0) }] };
      case 'time':
        return { type: 'scalar', v: t / 1000 };
      case 'absent': {
        if (vec(0).length) return { type: 'vector', samples: [] };
        const labels: Labels = {};
        const arg = e.args[0];
        if (arg.kind === 'selector') for (const m of arg.matchers) if (m.type === '=' && m.name !== '__name__') labels[m.name] = m.value;
        return { type: 'vector', samples: [{ labels, v: 1 }] };
      }
    }
    return unsupported(`function ${fn}()`);
  }

  private aggregate(e: Extract<Expr, { kind: 'aggregate' }>, t: number): VectorSample[] {
    const input = expectVector(this.eval(e.expr, t));
    const param = e.param ? expectScalar(this.eval(e.param, t)) : undefined;
    const groups = new Map<string, { labels: Labels; members: VectorSample[] }>();
    for (const s of input) {
      const labels = groupLabels(s.labels, e.grouping, e.without);
      const key = labelsKey(labels);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { labels, members: [] }));
      g.members.push(s);
    }
    const out: VectorSample[] = [];
    for (const g of groups.values()) {
      const vs = g.members.map((m) => m.v);
      switch (e.op) {
        case 'sum':
          out.push({ labels: g.labels, v: vs.reduce((a, b) => a + b, 0) });
          break;
        case 'avg':
          out.push({ labels: g.labels, v: vs.reduce((a, b) => a + b, 0) / vs.length });
          break;
        case 'min':
          out.push({ labels: g.labels, v: minMax(vs, (a, b) => a < b) });
          break;
        case 'max':
          out.push({ labels: g.labels, v: minMax(vs, (a, b) => a > b) });
          break;
        case 'count':
          out.push({ labels: g.labels, v: vs.length });
          break;
        case 'group':
          out.push({ labels: g.labels, v: 1 });
          break;
        case 'stddev':
        case 'stdvar': {
          const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
          const variance = vs.reduce((a, b) => a + (b - mean) ** 2, 0) / vs.length;
          out.push({ labels: g.labels, v: e.op === 'stddev' ? Math.sqrt(variance) : variance });
          break;
        }
        case 'quantile':
          out.push({ labels: g.labels, v: quantile(param ?? NaN, vs) });
          break;
        case 'topk':
        case 'bottomk': {
          const k = Math.floor(param ?? 0);
          const sorted = [...g.members].sort((a, b) => (e.op === 'topk' ? b.v - a.v : a.v - b.v));
          // topk/bottomk keep the original labels of the selected samples.
          for (const s of sorted.slice(0, Math.max(0, k))) out.push({ labels: s.labels, v: s.v });
          break;
        }
      }
    }
    return out;
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, t: number): Value {
    const l = this.eval(e.lhs, t);
    const r = this.eval(e.rhs, t);
    if (l.type === 'scalar' && r.type === 'scalar') {
      const v = scalarOp(e.op, l.v, r.v);
      return { type: 'scalar', v: COMPARISON.has(e.op) ? (v ? 1 : 0) : (v as number) };
    }
    if (l.type === 'vector' && r.type === 'scalar') return { type: 'vector', samples: vectorScalar(e, l.samples, r.v, false) };
    if (l.type === 'scalar' && r.type === 'vector') return { type: 'vector', samples: vectorScalar(e, r.samples, l.v, true) };
    return { type: 'vector', samples: vectorVector(e, expectVector(l), expectVector(r)) };
  }
}

function minMax(vs: number[], better: (a: number, b: number) => boolean): number {
  let best = NaN;
  for (const v of vs) if (Number.isNaN(best) || better(v, best)) best = v;
  return best;
}

function quantile(q: number, vs: number[]): number {
  if (!vs.length || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...vs].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const w = rank - lo;
  return sorted[lo] * (1 - w) + sorted[hi] * w;
}

function expectVector(v: Value): VectorSample[] {
  if (v.type !== 'vector') throw new PromQLError(`expected instant vector, got ${v.type}`);
  return v.samples;
}

function expectScalar(v: Value): number {
  if (v.type !== 'scalar') throw new PromQLError(`expected scalar, got ${v.type}`);
  return v.v;
}

function dropName(labels: Labels): Labels {
  if (!('__name__' in labels)) return labels;
  const { __name__: _, ...rest } = labels;
  return rest;
}

function groupLabels(labels: Labels, grouping: string[], without: boolean): Labels {
  const out: Labels = {};
  if (without) {
    const drop = new Set([...grouping, '__name__']);
    for (const [k, v] of Object.entries(labels)) if (!drop.has(k)) out[k] = v;
  } else {
    for (const k of grouping) if (labels[k] !== undefined && labels[k] !== '') out[k] = labels[k];
  }
  return out;
}

function scalarOp(op: string, a: number, b: number): number | boolean {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case '%': return a % b;
    case '^': return a ** b;
    case 'atan2': return Math.atan2(a, b);
    case '==': return a === b;
    case '!=': return a !== b;
    case '>': return a > b;
    case '<': return a < b;
    case '>=': return a >= b;
    case '<=': return a <= b;
  }
  return unsupported(`operator ${op}`);
}

function vectorScalar(e: Extract<Expr, { kind: 'binary' }>, samples: VectorSample[], scalar: number, scalarLeft: boolean): VectorSample[] {
  const out: VectorSample[] = [];
  for (const s of samples) {
    const [a, b] = scalarLeft ? [scalar, s.v] : [s.v, scalar];
    const r = scalarOp(e.op, a, b);
    if (COMPARISON.has(e.op)) {
      if (e.bool) out.push({ labels: dropName(s.labels), v: r ? 1 : 0 });
      else if (r) out.push({ labels: s.labels, v: s.v });
    } else {
      out.push({ labels: dropName(s.labels), v: r as number });
    }
  }
  return out;
}

function signature(labels: Labels, m: VectorMatching | undefined): string {
  if (m?.on) {
    const picked: Labels = {};
    for (const k of m.labels) if (labels[k] !== undefined) picked[k] = labels[k];
    return labelsKey(picked);
  }
  const drop = new Set(['__name__', ...(m?.labels ?? [])]);
  const picked: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (!drop.has(k)) picked[k] = v;
  return labelsKey(picked);
}

function vectorVector(e: Extract<Expr, { kind: 'binary' }>, lhs: VectorSample[], rhs: VectorSample[]): VectorSample[] {
  const m = e.matching;
  if (SET_OPS.has(e.op)) {
    const rightSigs = new Set(rhs.map((s) => signature(s.labels, m)));
    if (e.op === 'and') return lhs.filter((s) => rightSigs.has(signature(s.labels, m)));
    if (e.op === 'unless') return lhs.filter((s) => !rightSigs.has(signature(s.labels, m)));
    const leftSigs = new Set(lhs.map((s) => signature(s.labels, m)));
    return [...lhs, ...rhs.filter((s) => !leftSigs.has(signature(s.labels, m)))];
  }
  const card = m?.card ?? 'one-to-one';
  // The "one" side is indexed by signature; duplicates there are an error, as in Prometheus.
  const [many, one, swapped] = card === 'one-to-many' ? [rhs, lhs, true] : [lhs, rhs, false];
  const index = new Map<string, VectorSample>();
  for (const s of one) {
    const sig = signature(s.labels, m);
    if (index.has(sig)) {
      throw new PromQLError(
        `found duplicate series for the match group ${sig} on the ${swapped ? 'left' : 'right'} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side`,
        'execution',
      );
    }
    index.set(sig, s);
  }
  const seen = new Set<string>();
  const out: VectorSample[] = [];
  for (const s of many) {
    const sig = signature(s.labels, m);
    const other = index.get(sig);
    if (!other) continue;
    if (card === 'one-to-one') {
      if (seen.has(sig)) {
        throw new PromQLError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)', 'execution');
      }
      seen.add(sig);
    }
    const [a, b] = swapped ? [other.v, s.v] : [s.v, other.v];
    const r = scalarOp(e.op, a, b);
    let labels: Labels;
    if (card === 'one-to-one') {
      labels = m?.on ? pick(s.labels, m.labels) : dropName(withoutLabels(s.labels, m?.labels ?? []));
      if (COMPARISON.has(e.op) && !e.bool) labels = s.labels;
    } else {
      labels = dropName(s.labels);
      for (const k of m?.include ?? []) {
        if (other.labels[k] !== undefined) labels = { ...labels, [k]: other.labels[k] };
        else {
          const { [k]: _, ...rest } = labels;
          labels = rest;
        }
      }
      if (COMPARISON.has(e.op) && !e.bool) labels = s.labels;
    }
    if (COMPARISON.has(e.op)) {
      if (e.bool) out.push({ labels: dropName(labels), v: r ? 1 : 0 });
      else if (r) out.push({ labels, v: swapped ? other.v : s.v });
    } else {
      out.push({ labels, v: r as number });
    }
  }
  return out;
}

function pick(labels: Labels, keys: string[]): Labels {
  const out: Labels = {};
  for (const k of keys) if (labels[k] !== undefined) out[k] = labels[k];
  return out;
}

function withoutLabels(labels: Labels, keys: string[]): Labels {
  if (!keys.length) return labels;
  const drop = new Set(keys);
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (!drop.has(k)) out[k] = v;
  return out;
}

/** rate/increase/delta with Prometheus's extrapolation (promql/functions.go extrapolatedRate). */
function extrapolated(points: Sample[], t: number, rangeMs: number, isCounter: boolean, isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const first = points[0];
  const last = points[points.length - 1];
  let result = last.v - first.v;
  if (isCounter) {
    let prev = first.v;
    for (const p of points) {
      if (p.v < prev) result += prev;
      prev = p.v;
    }
  }
  const rangeStart = t - rangeMs;
  const rangeEnd = t;
  let durationToStart = (first.t - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - last.t) / 1000;
  const sampled = (last.t - first.t) / 1000;
  const avgBetween = sampled / (points.length - 1);
  const threshold = avgBetween * 1.1;
  if (durationToStart >= threshold) durationToStart = avgBetween / 2;
  if (isCounter && result > 0 && first.v >= 0) {
    const durationToZero = sampled * (first.v / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avgBetween / 2;
  let factor = (sampled + durationToStart + durationToEnd) / sampled;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

function overTime(fn: string, points: Sample[], t: number, rangeMs: number): number | undefined {
  switch (fn) {
    case 'rate':
      return extrapolated(points, t, rangeMs, true, true);
    case 'increase':
      return extrapolated(points, t, rangeMs, true, false);
    case 'delta':
      return extrapolated(points, t, rangeMs, false, false);
    case 'irate':
    case 'idelta': {
      if (points.length < 2) return undefined;
      const a = points[points.length - 2];
      const b = points[points.length - 1];
      let d = b.v - a.v;
      if (fn === 'irate') {
        if (b.v < a.v) d = b.v;
        return d / ((b.t - a.t) / 1000);
      }
      return d;
    }
  }
  if (!points.length) return undefined;
  const vs = points.map((p) => p.v);
  switch (fn) {
    case 'avg_over_time':
      return vs.reduce((a, b) => a + b, 0) / vs.length;
    case 'min_over_time':
      return minMax(vs, (a, b) => a < b);
    case 'max_over_time':
      return minMax(vs, (a, b) => a > b);
    case 'sum_over_time':
      return vs.reduce((a, b) => a + b, 0);
    case 'count_over_time':
      return vs.length;
    case 'last_over_time':
      return vs[vs.length - 1];
  }
  return undefined;
}

/** histogram_quantile over classic `le` buckets (promql/quantile.go bucketQuantile). */
export function histogramQuantile(q: number, samples: VectorSample[]): VectorSample[] {
  const groups = new Map<string, { labels: Labels; buckets: { le: number; count: number }[] }>();
  for (const s of samples) {
    const le = s.labels.le;
    if (le === undefined) continue;
    const upper = le === '+Inf' ? Infinity : Number(le);
    if (Number.isNaN(upper)) continue;
    const { le: _, __name__: _n, ...rest } = s.labels;
    const key = labelsKey(rest);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels: rest, buckets: [] }));
    g.buckets.push({ le: upper, count: s.v });
  }
  const out: VectorSample[] = [];
  for (const g of groups.values()) out.push({ labels: g.labels, v: bucketQuantile(q, g.buckets) });
  return out;
}

function bucketQuantile(q: number, buckets: { le: number; count: number }[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets[buckets.length - 1].le !== Infinity) return NaN;
  // Make counts monotonic (rate() of separate series can wobble).
  for (let i = 1; i < buckets.length; i++) if (buckets[i].count < buckets[i - 1].count) buckets[i].count = buckets[i - 1].count;
  const total = buckets[buckets.length - 1].count;
  if (total === 0) return NaN;
  const rank = q * total;
  let b = buckets.findIndex((x) => x.count >= rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  let bucketStart = 0;
  const bucketEnd = buckets[b].le;
  let count = buckets[b].count;
  let r = rank;
  if (b > 0) {
    bucketStart = buckets[b - 1].le;
    count -= buckets[b - 1].count;
    r -= buckets[b - 1].count;
  }
  if (b < 0) b = 0;
  return bucketStart + (bucketEnd - bucketStart) * (count === 0 ? 0 : r / count);
}

// ---------------------------------------------------------------------------------------------
// Prometheus HTTP API result shapes

export type PromResult =
  | { resultType: 'vector'; result: { metric: Labels; value: [number, string] }[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] }
  | { resultType: 'matrix'; result: { metric: Labels; values: [number, string][] }[] };

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Runs an instant query at `t` (ms) and shapes the result as `/api/v1/query` does. */
export function instantQuery(db: Tsdb, query: string, t: number): PromResult {
  const expr = parsePromQL(query);
  const v = new Evaluator(db).eval(expr, t);
  const ts = t / 1000;
  switch (v.type) {
    case 'scalar':
      return { resultType: 'scalar', result: [ts, formatValue(v.v)] };
    case 'string':
      return { resultType: 'string', result: [ts, v.v] };
    case 'vector':
      return { resultType: 'vector', result: v.samples.map((s) => ({ metric: { ...s.labels }, value: [ts, formatValue(s.v)] })) };
    case 'matrix':
      return { resultType: 'matrix', result: v.series.map((s) => ({ metric: { ...s.labels }, values: s.points.map((p) => [p.t / 1000, formatValue(p.v)] as [number, string]) })) };
  }
}

/** Max points per series in a range query, as Prometheus limits it. */
export const MAX_POINTS = 11_000;

/** Runs a range query (`/api/v1/query_range`): the expression at every step from start to end. */
export function rangeQuery(db: Tsdb, query: string, start: number, end: number, step: number): PromResult {
  if (!(step > 0)) throw new PromQLError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if (end < start) throw new PromQLError('end timestamp must not be before start time');
  if ((end - start) / step > MAX_POINTS) throw new PromQLError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  const expr = parsePromQL(query);
  const t0 = typeOf(expr);
  if (t0 !== 'scalar' && t0 !== 'vector') throw new PromQLError(`invalid expression type "${typeName(t0)}" for range query, must be Scalar or instant Vector`);
  const ev = new Evaluator(db);
  const series = new Map<string, { metric: Labels; values: [number, string][] }>();
  for (let t = start; t <= end; t += step) {
    const v = ev.eval(expr, t);
    const samples = v.type === 'scalar' ? [{ labels: {}, v: v.v }] : v.type === 'vector' ? v.samples : [];
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let entry = series.get(key);
      if (!entry) series.set(key, (entry = { metric: { ...s.labels }, values: [] }));
      entry.values.push([t / 1000, formatValue(s.v)]);
    }
  }
  return { resultType: 'matrix', result: [...series.values()] };
}
