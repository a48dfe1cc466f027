// The typed model of a validated deploy file. This is the contract between the deploy-file parser
// (src/deployfile), the engine (src/engine) and the editor surfaces: the parser fills every default so
// consumers never re-derive them. Source ranges ride along so the editor can point at the line a
// runtime failure came from (e.g. the threshold a failed analysis check compared against).

/** Zero-based position, as VS Code and LSP use. The CLI adds 1 when printing. */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export type StrategyType = 'simple' | 'canary' | 'blueGreen';
export type RouterType = 'replicas' | 'istio' | 'gatewayApi' | 'nginx';
export type StageMode = 'auto' | 'manual';

export interface AppRef {
  deployment: string;
  container: string;
  service: string;
  port: number;
}

export interface Environment {
  name: string;
  context: string;
  namespace: string;
  protected: boolean;
  /** Name of an environment that must have succeeded first. */
  after?: string;
  range: Range;
}

export interface Weights { canary: number; baseline: number; current: number }

export interface Analysis {
  /** Minimum success rate in percent, (0, 100]. */
  successRate?: number;
  /** Maximum latency percentiles in milliseconds. */
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  /** Cron schedule (5 fields) at which checks run. */
  schedule: string;
  /** How many passing checks the stage needs. */
  checks: number;
  /** How many failing checks are tolerated before the gate fails (default 0). */
  failureLimit: number;
  /**
   * Fewest requests the canary (or new colour) must have had in the query window for a check to judge it;
   * fewer make the check inconclusive. 0 = off. The parser fills the effective default: 100, or 0 when
   * `queries` replaces a metric query without a `requests` query (the default count may not match).
   */
  minRequests: number;
  /** Optional PromQL templates overriding the defaults ({{namespace}}, {{pipeline}}, {{version}}, {{service}}, {{deployment}}). */
  queries?: { successRate?: string; latencyP50Ms?: string; latencyP99Ms?: string; requests?: string };
  range: Range;
  /** Ranges of each threshold key, so a failed check points at the number it failed against. */
  thresholdRanges: Partial<Record<'successRate' | 'latencyP50Ms' | 'latencyP99Ms', Range>>;
}

export interface CanaryStage {
  weights: Weights;
  mode: StageMode;
  analysis?: Analysis;
  tests: string[];
  /** Minimum time at this stage before it may advance, in ms (0 = none). */
  pauseMs: number;
  range: Range;
}

export interface TrafficRouter {
  router: RouterType;
  /** istio */
  virtualService?: string;
  destinationRule?: string;
  /** gatewayApi */
  httpRoute?: string;
  /** nginx: the primary Ingress; the engine creates `<ingress>-canary`. */
  ingress?: string;
  /** replicas router: total pod count the ratios are computed over (default: stable's replicas). */
  replicas?: number;
}

export interface SimpleStrategy {
  type: 'simple';
  maxSurge: string | number;
  maxUnavailable: string | number;
  timeoutMs: number;
  tests: string[];
  range: Range;
}

export interface CanaryStrategy {
  type: 'canary';
  traffic: TrafficRouter;
  baseline: boolean;
  stages: CanaryStage[];
  range: Range;
}

export interface BlueGreenStrategy {
  type: 'blueGreen';
  previewService: string;
  tests: string[];
  analysis?: Analysis;
  autoPromote: boolean;
  /** Delay before auto promotion once tests pass, ms. */
  autoPromoteDelayMs: number;
  scaleDownDelayMs: number;
  /** Optional share of live traffic sent to the new colour before the switch (0 = none). */
  previewWeight: number;
  range: Range;
}

export type Strategy = SimpleStrategy | CanaryStrategy | BlueGreenStrategy;

export interface TestSpec {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
  range: Range;
}

export interface MetricsSource {
  prometheus?: {
    /** `namespace/name:port` reached through the API server's service proxy. */
    service?: { namespace: string; name: string; port: number };
    /** Or a direct URL. */
    url?: string;
  };
}

export interface Pipeline {
  name: string;
  app: AppRef;
  image: string;
  /** Manifest paths, resolved against the deploy file's directory (absolute when `file` is). */
  manifests: string[];
  environments: Environment[];
  strategy: Strategy;
  tests: Record<string, TestSpec>;
  metrics: MetricsSource;
  /** Absolute path of the deploy file (or '' for in-memory text). */
  file: string;
  /** Index of the YAML document in the file. */
  documentIndex: number;
  range: Range;
}

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  severity: Severity;
  /** Stable code: KD0xx syntax, KD05x schema, KD1xx semantic rules. */
  code: string;
  message: string;
  range: Range;
  /** Optional machine-usable fix data for quick fixes (e.g. suggested key, corrected weights). */
  fix?: {
    title: string;
    edits: { range: Range; newText: string }[];
    /** True when newText is a snippet (`${1:placeholder}`): the editor lets the user type over it. */
    snippet?: boolean;
  };
}

export interface ParseResult {
  /** Pipelines of the documents without errors (warnings allowed), in file order. */
  pipelines: Pipeline[];
  diagnostics: Diagnostic[];
}
