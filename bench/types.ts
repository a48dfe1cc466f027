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
