// The shape every bench/<area>.bench.ts returns from run(); scripts/bench.mjs writes them to RESULTS.md.
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  reference?: { name: string; value: number };
  /** reference / ours for times (how many times faster), or as documented in notes. */
  ratio?: number;
  goal?: string;
  notes?: string;
}

/** Runs a benchmark from the command line (`npx tsx bench/<area>.bench.ts`) and prints one line per result. */
export function runStandalone(run: () => Promise<BenchResult[]>): void {
  run()
    .then((rows) => {
      const w = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) {
        const ref = r.reference ? `  vs ${r.reference.name}: ${r.reference.value} (${r.ratio}x)` : '';
        console.log(`${r.name.padEnd(w)}  ${String(r.value).padStart(8)} ${r.unit.padEnd(3)} ${r.goal ? `goal ${r.goal}` : ''}${ref}${r.notes ? `  (${r.notes})` : ''}`);
      }
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
