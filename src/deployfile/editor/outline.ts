// Outline: pipelines → environments, strategy → stages, tests. Built from the YAML tree so it works
// while the document still has errors.
import type { Range } from '../model';
import type { DeployFileValidator, DocumentView } from '../parse';
import { escapeSegment } from '../ranges';
import { toFile } from './documents';

export type SymbolKind = 'pipeline' | 'environment' | 'strategy' | 'stage' | 'test' | 'group';

export interface OutlineSymbol {
  name: string;
  detail: string;
  kind: SymbolKind;
  range: Range;
  selectionRange: Range;
  children: OutlineSymbol[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);

function block(view: DocumentView, ptr: string): { range: Range; selection: Range } | undefined {
  const n = view.raw.nodes.get(ptr);
  if (!n) return undefined;
  const range = toFile(view, n.key ? { start: n.key.start, end: n.value.end } : n.value);
  const selection = toFile(view, n.key ?? { start: n.value.start, end: n.value.start.line === n.value.end.line ? n.value.end : { line: n.value.start.line, character: n.value.start.character + 1 } });
  return { range, selection };
}

function sym(view: DocumentView, ptr: string, name: string, detail: string, kind: SymbolKind, selectPtr?: string): OutlineSymbol | undefined {
  const b = block(view, ptr);
  if (!b) return undefined;
  const sel = selectPtr ? block(view, selectPtr) : undefined;
  const selectionRange = sel ? toFile(view, view.raw.nodes.get(selectPtr!)!.value) : b.selection;
  return { name, detail, kind, range: b.range, selectionRange: within(selectionRange, b.range), children: [] };
}

/** VS Code requires the selection range to lie inside the range. */
function within(sel: Range, r: Range): Range {
  const before = (a: Range['start'], b: Range['start']) => a.line < b.line || (a.line === b.line && a.character < b.character);
  if (before(sel.start, r.start) || before(r.end, sel.end)) return { start: r.start, end: r.start };
  return sel;
}

export function outline(validator: DeployFileValidator, text: string): OutlineSymbol[] {
  const out: OutlineSymbol[] = [];
  for (const view of validator.documents(text)) {
    const root = obj(view.raw.value);
    if (!root) continue;
    const spec = obj(root.spec) ?? {};
    const name = typeof obj(root.metadata)?.name === 'string' ? String(obj(root.metadata)!.name) : `pipeline ${view.index + 1}`;
    const strategy = obj(spec.strategy);
    const rootNode = view.raw.nodes.get('')!;
    const nameNode = view.raw.nodes.get('/metadata/name');
    const pipeline: OutlineSymbol = {
      name,
      detail: typeof strategy?.type === 'string' ? strategy.type : 'pipeline',
      kind: 'pipeline',
      range: toFile(view, rootNode.value),
      selectionRange: toFile(view, nameNode?.value ?? rootNode.value),
      children: [],
    };
    pipeline.selectionRange = within(pipeline.selectionRange, pipeline.range);
    const envs = Array.isArray(spec.environments) ? spec.environments : [];
    envs.forEach((e, i) => {
      const env = obj(e);
      if (!env) return;
      const detail = `${String(env.context ?? '?')} / ${String(env.namespace ?? 'default')}${env.protected === true ? ' · protected' : ''}${typeof env.after === 'string' ? ` · after ${env.after}` : ''}`;
      const s = sym(view, `/spec/environments/${i}`, String(env.name ?? `environment ${i + 1}`), detail, 'environment', '/spec/environments/' + i + '/name');
      if (s) pipeline.children.push(s);
    });
    if (strategy) {
      const router = obj(strategy.traffic)?.router;
      const s = sym(view, '/spec/strategy', 'strategy', `${String(strategy.type ?? '?')}${typeof router === 'string' ? ` · ${router}` : ''}`, 'strategy');
      if (s) {
        const stages = Array.isArray(strategy.stages) ? strategy.stages : [];
        stages.forEach((st, i) => {
          const stage = obj(st);
          if (!stage) return;
          const w = obj(stage.weights) ?? {};
          const weights = [`canary ${String(w.canary ?? '?')}%`, ...(w.baseline ? [`baseline ${String(w.baseline)}%`] : [])].join(', ');
          const c = sym(view, `/spec/strategy/stages/${i}`, `stage ${i + 1}`, `${weights} · ${String(stage.mode ?? 'manual')}`, 'stage');
          if (c) s.children.push(c);
        });
        pipeline.children.push(s);
      }
    }
    const tests = obj(spec.tests);
    if (tests) {
      for (const [t, v] of Object.entries(tests)) {
        const s = sym(view, `/spec/tests/${escapeSegment(t)}`, t, `test · ${String(obj(v)?.image ?? '')}`, 'test');
        if (s) {
          s.selectionRange = toFile(view, view.raw.nodes.get(`/spec/tests/${escapeSegment(t)}`)!.key ?? s.selectionRange);
          pipeline.children.push(s);
        }
      }
    }
    out.push(pipeline);
  }
  return out;
}
