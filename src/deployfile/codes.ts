// Stable diagnostic codes. Users search for them and may silence them, so a code never changes
// meaning; new rules get new codes. README.md lists the same table (a unit test keeps the
// two in step).
import type { Severity } from './model';

export interface CodeInfo { code: string; severity: Severity; title: string }

export const CODES = {
  KD001: { severity: 'error', title: 'YAML syntax error' },
  KD002: { severity: 'error', title: 'Duplicate key in a mapping' },
  KD003: { severity: 'error', title: 'Too many alias expansions (possible "billion laughs" document)' },
  KD004: { severity: 'error', title: 'A document is not a mapping (a Pipeline is expected)' },
  KD050: { severity: 'error', title: 'Value of the wrong type' },
  KD051: { severity: 'error', title: 'Value not among the allowed values' },
  KD052: { severity: 'error', title: 'Unknown key (with a "did you mean" suggestion)' },
  KD053: { severity: 'error', title: 'Missing required key' },
  KD054: { severity: 'error', title: 'Number out of range, empty text or too few items' },
  KD055: { severity: 'error', title: 'Text in the wrong format (names, percentages of pods, URLs)' },
  KD056: { severity: 'error', title: 'Item listed twice' },
  KD101: { severity: 'error', title: 'Stage weights do not sum to 100' },
  KD102: { severity: 'error', title: 'Canary weight decreases from one stage to the next' },
  KD103: { severity: 'error', title: 'Baseline weight without `baseline: true`' },
  KD104: { severity: 'error', title: 'An `auto` stage has no analysis' },
  KD105: { severity: 'error', title: 'Invalid cron schedule' },
  KD106: { severity: 'error', title: 'Percentage outside (0, 100]' },
  KD107: { severity: 'error', title: 'Invalid duration' },
  KD108: { severity: 'error', title: 'Referenced test is not defined' },
  KD109: { severity: 'error', title: '`after` names an environment that does not exist' },
  KD110: { severity: 'error', title: '`after` environments form a cycle' },
  KD111: { severity: 'error', title: 'Environment name used twice' },
  KD112: { severity: 'error', title: 'Test name defined twice' },
  KD113: { severity: 'error', title: 'Pipeline name used twice in the file' },
  KD114: { severity: 'error', title: 'Router resource missing (istio VirtualService/DestinationRule, gatewayApi HTTPRoute, nginx Ingress)' },
  KD115: { severity: 'warning', title: 'Router field ignored by the chosen router' },
  KD116: { severity: 'error', title: 'Image reference does not parse' },
  KD117: { severity: 'warning', title: 'Image without a tag or with `:latest`' },
  KD118: { severity: 'warning', title: 'Protected environment without `after`' },
  KD119: { severity: 'error', title: 'Analysis without any threshold' },
  KD120: { severity: 'error', title: '`maxSurge` and `maxUnavailable` are both 0' },
  KD121: { severity: 'warning', title: '`baseline: true` but no stage sends traffic to the baseline' },
  KD122: { severity: 'warning', title: 'Blue-green analysis without preview traffic (`previewWeight` 0)' },
  KD123: { severity: 'warning', title: 'Custom analysis `queries` without a `requests` query: the minimum sample size (`minRequests`) is off' },
} as const satisfies Record<string, Omit<CodeInfo, 'code'>>;

export type Code = keyof typeof CODES;

export function codeInfo(code: Code): CodeInfo {
  return { code, ...CODES[code] };
}
