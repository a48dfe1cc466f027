// uPlot-backed charts for the dashboard. Colours come from VS Code's theme variables (read at draw
// time, so a theme switch only needs a redraw). The traffic chart keeps the SAME column arrays across
// updates: new points are pushed by the view and setData is called again — no chart re-creation.
import uPlot from 'uplot';
import type { ChartFactory, MetricChartPort, TrafficChartPort } from './view';
import type { GateMarker, MetricSeries, TrafficColumns, WeightLabels } from './model';

interface Palette { canary: string; baseline: string; current: string; requested: string; axis: string; grid: string; boundary: string; gate: string; threshold: string; font: string }

let palette: Palette | undefined;

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

function colours(): Palette {
  if (palette) return palette;
  const st = getComputedStyle(document.body);
  const fg = cssVar(st, '--vscode-foreground', '#cccccc');
  palette = {
    canary: cssVar(st, '--vscode-charts-orange', '#d18616'),
    baseline: cssVar(st, '--vscode-charts-blue', '#3794ff'),
    current: cssVar(st, '--vscode-charts-green', '#89d185'),
    requested: fg,
    axis: cssVar(st, '--vscode-descriptionForeground', fg),
    grid: cssVar(st, '--vscode-editorWidget-border', 'rgba(128,128,128,0.25)'),
    boundary: cssVar(st, '--vscode-charts-purple', '#b180d7'),
    gate: cssVar(st, '--vscode-charts-yellow', '#cca700'),
    threshold: cssVar(st, '--vscode-charts-red', '#f14c4c'),
    font: `${cssVar(st, '--vscode-font-size', '12px')} ${cssVar(st, '--vscode-font-family', 'sans-serif')}`,
  };
  return palette;
}

/** Translucent variant of a CSS colour for area fills (works for #rgb/#rrggbb; others pass through). */
function alpha(c: string, a: number): string {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c.trim());
  if (!m) return c;
  let hex = m[1];
  if (hex.length === 3) hex = hex.split('').map((x) => x + x).join('');
  const n = parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

const charts = new Set<uPlot>();

/** Called when VS Code switches theme (body class changes): colours are re-read on the next draw. */
export function themeChanged(): void {
  palette = undefined;
  for (const u of charts) u.redraw(false, true);
}

function widthOf(el: HTMLElement): number {
  return Math.max(320, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 640));
}

function observeSize(el: HTMLElement, u: uPlot, height: number): ResizeObserver | undefined {
  if (typeof ResizeObserver === 'undefined') return undefined;
  let last = u.width;
  const ro = new ResizeObserver(() => {
    const w = widthOf(el);
    if (w !== last) {
      last = w;
      u.setSize({ width: w, height });
    }
  });
  ro.observe(el);
  return ro;
}

const stepped = uPlot.paths.stepped!({ align: 1 });

function axes(yLabel: string, yFmt: (v: number) => string): uPlot.Axis[] {
  const common = { stroke: () => colours().axis, grid: { stroke: () => colours().grid, width: 1 }, ticks: { stroke: () => colours().grid, width: 1 }, font: colours().font };
  return [common, { ...common, label: yLabel, labelFont: colours().font, size: 64, values: (_u: uPlot, splits: number[]) => splits.map(yFmt) }];
}

/** Draws stage boundaries and gate markers over the plot area. */
function markersPlugin(get: () => { cols?: TrafficColumns; gates: GateMarker[] }): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { cols, gates } = get();
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        const p = colours();
        const dpr = window.devicePixelRatio || 1;
        ctx.save();
        ctx.font = `${Math.round(10 * dpr)}px sans-serif`;
        // uPlot leaves the context's alignment as its axes last set it.
        ctx.textAlign = 'left';
        ctx.textBaseline = 'alphabetic';
        ctx.lineWidth = dpr;
        ctx.setLineDash([4 * dpr, 3 * dpr]);
        ctx.strokeStyle = p.boundary;
        ctx.fillStyle = p.boundary;
        for (const b of cols?.boundaries ?? []) {
          const x = Math.round(u.valToPos(b.x, 'x', true));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillText(`S${b.stage + 1}`, x + 3 * dpr, top + 11 * dpr);
        }
        ctx.setLineDash([]);
        ctx.fillStyle = p.gate;
        for (const g of gates) {
          const x = Math.round(u.valToPos(g.x, 'x', true));
          if (x < u.bbox.left - 1 || x > u.bbox.left + u.bbox.width + 1) continue;
          ctx.beginPath();
          ctx.moveTo(x - 5 * dpr, top);
          ctx.lineTo(x + 5 * dpr, top);
          ctx.lineTo(x, top + 8 * dpr);
          ctx.closePath();
          ctx.fill();
          if (g.current) ctx.fillText(g.label, Math.min(x + 6 * dpr, u.bbox.left + u.bbox.width - 120 * dpr), top + 24 * dpr);
        }
        ctx.restore();
      },
    },
  };
}

class TrafficChart implements TrafficChartPort {
  private readonly u: uPlot;
  private readonly ro?: ResizeObserver;
  private cols?: TrafficColumns;
  private gates: GateMarker[] = [];
  private readonly data: uPlot.AlignedData;

  constructor(el: HTMLElement, labels: WeightLabels, withBaseline: boolean) {
    const height = 240;
    const p = () => colours();
    const series: uPlot.Series[] = [
      {},
      { label: `${labels.current} (actual)`, stroke: () => p().current, width: 1, paths: stepped },
      { label: `${labels.baseline} (actual)`, stroke: () => p().baseline, width: 1, paths: stepped, show: withBaseline },
      { label: `${labels.canary} (actual)`, stroke: () => p().canary, width: 1.5, paths: stepped, fill: () => alpha(p().canary, 0.45) },
      { label: `${labels.canary} (requested)`, stroke: () => p().requested, width: 1, dash: [5, 4], paths: stepped },
      { label: `${labels.canary} + ${labels.baseline} (requested)`, stroke: () => p().requested, width: 1, dash: [2, 3], paths: stepped, show: withBaseline },
    ];
    // Stacked areas: the bands fill between the cumulative series (total→canary+baseline is the stable
    // share, canary+baseline→canary the baseline share); the canary series fills down to zero.
    const bands: uPlot.Band[] = [
      { series: [1, 2], fill: () => alpha(p().current, 0.3) },
      { series: [2, 3], fill: () => alpha(p().baseline, 0.4) },
    ];
    this.data = [[], [], [], [], [], []];
    this.u = new uPlot(
      {
        width: widthOf(el),
        height,
        series,
        bands,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: [0, 100] } },
        axes: axes('% of traffic', (v) => `${v}%`),
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        plugins: [markersPlugin(() => ({ cols: this.cols, gates: this.gates }))],
      },
      this.data,
      el,
    );
    charts.add(this.u);
    this.ro = observeSize(el, this.u, height);
  }

  setData(cols: TrafficColumns, gates: GateMarker[]): void {
    this.gates = gates;
    if (this.cols !== cols) {
      this.cols = cols;
      const d = this.data as unknown as number[][];
      d[0] = cols.x;
      d[1] = cols.aTotal;
      d[2] = cols.aBase;
      d[3] = cols.aCanary;
      d[4] = cols.rCanary;
      d[5] = cols.rBase;
    }
    // Same arrays, grown in place: uPlot re-reads their length; nothing is rebuilt.
    this.u.setData(this.data, true);
  }

  destroy(): void {
    this.ro?.disconnect();
    charts.delete(this.u);
    this.u.destroy();
  }
}

class MetricChart implements MetricChartPort {
  private readonly u: uPlot;
  private readonly ro?: ResizeObserver;
  /** The latest threshold, drawn as a line across the whole chart and always inside the y range. */
  private threshold: number | undefined;

  constructor(el: HTMLElement, s: MetricSeries) {
    const height = 160;
    const p = () => colours();
    const percent = s.unit === '%';
    const fmt = percent ? (v: number) => `${v}%` : (v: number) => `${v} ms`;
    const range: uPlot.Range.Function = (_u, dmin, dmax) => {
      const t = this.threshold;
      let lo = dmin ?? t ?? 0;
      let hi = dmax ?? t ?? 1;
      if (t !== undefined) {
        lo = Math.min(lo, t);
        hi = Math.max(hi, t);
      }
      const pad = (hi - lo) * 0.15 || Math.max(1, Math.abs(hi) * 0.05);
      return [percent ? Math.max(0, lo - pad) : Math.max(0, lo - pad), percent ? Math.min(100, hi + pad) : hi + pad];
    };
    this.u = new uPlot(
      {
        width: widthOf(el),
        height,
        series: [
          {},
          { label: 'canary', stroke: () => p().canary, width: 2, points: { show: true, size: 7 } },
          { label: 'baseline', stroke: () => p().baseline, width: 1.5, points: { show: true, size: 5 }, show: s.hasBaseline },
          { label: 'threshold', stroke: () => p().threshold, width: 1, dash: [6, 4], points: { show: false } },
        ],
        legend: { show: false },
        scales: { x: { time: true }, y: { range } },
        axes: axes(s.label, fmt),
        cursor: { drag: { x: false, y: false } },
        plugins: [
          {
            hooks: {
              draw: (u: uPlot) => {
                const t = this.threshold;
                if (t === undefined) return;
                const ctx = u.ctx;
                const dpr = window.devicePixelRatio || 1;
                const y = Math.round(u.valToPos(t, 'y', true));
                ctx.save();
                ctx.strokeStyle = p().threshold;
                ctx.fillStyle = p().threshold;
                ctx.lineWidth = dpr;
                ctx.setLineDash([6 * dpr, 4 * dpr]);
                ctx.beginPath();
                ctx.moveTo(u.bbox.left, y);
                ctx.lineTo(u.bbox.left + u.bbox.width, y);
                ctx.stroke();
                ctx.font = `${Math.round(10 * dpr)}px sans-serif`;
                ctx.textAlign = 'left';
                ctx.textBaseline = 'alphabetic';
                ctx.fillText(`threshold ${percent ? '≥' : '≤'} ${fmt(t)}`, u.bbox.left + 4 * dpr, y - 3 * dpr);
                ctx.restore();
              },
            },
          },
        ],
      },
      [[], [], [], []],
      el,
    );
    charts.add(this.u);
    this.setData(s);
    this.ro = observeSize(el, this.u, height);
  }

  setData(s: MetricSeries): void {
    this.threshold = s.threshold.length ? s.threshold[s.threshold.length - 1] : undefined;
    const wide = s.x.length > 1 && s.x[s.x.length - 1] - s.x[0] >= 60;
    this.u.setData([s.x, s.canary, s.baseline, s.threshold] as uPlot.AlignedData, wide);
    // One check (or a few within a minute) gives a zero-width time range that uPlot would stretch over
    // years: show two minutes around them instead.
    if (!wide && s.x.length) this.u.setScale('x', { min: s.x[0] - 60, max: s.x[s.x.length - 1] + 60 });
  }

  destroy(): void {
    this.ro?.disconnect();
    charts.delete(this.u);
    this.u.destroy();
  }
}

export const uplotCharts: ChartFactory = {
  traffic: (el, labels, withBaseline) => new TrafficChart(el, labels, withBaseline),
  metric: (el, s) => new MetricChart(el, s),
};
