// The typed message protocol between the dashboard panel (extension host) and its webview. Both sides
// import this module: the host never trusts what arrives from the webview (a compromised or buggy page
// can post anything), so every incoming message goes through `validateWebviewMessage` before it is acted
// on. Keep this file free of `vscode` and DOM imports: it runs in Node (host, unit tests) and the browser.
import type { Measurement, RolloutAction, RolloutEvent, RolloutSnapshot, TimelinePoint } from '../engine/snapshot';

/** Bumped when a message shape changes incompatibly; a restored webview state of another version is dropped. */
export const PROTOCOL_VERSION = 1;

/** One dashboard shows one pipeline in one environment. */
export interface RolloutKey {
  pipeline: string;
  environment: string;
}

export const ACTIONS: readonly RolloutAction[] = ['start', 'promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry'];

/** Arrays that only grow during a run: deltas carry their new tail instead of the whole array. */
export const APPEND_FIELDS = ['timeline', 'analysis', 'events'] as const;
export type AppendField = (typeof APPEND_FIELDS)[number];

/**
 * What changed between two snapshots of the same rollout. Applying it to the snapshot whose seq is
 * `fromSeq` yields the snapshot whose seq is `toSeq` (see delta.ts). A webview holding any other seq asks
 * for a full snapshot instead (`resync`).
 */
export interface SnapshotDelta {
  fromSeq: number;
  toSeq: number;
  /** Fields replaced wholesale (append fields appear here only when they did not simply grow). */
  set: Partial<RolloutSnapshot>;
  /** Optional fields that disappeared (e.g. `gate` once the gate is passed). */
  unset: (keyof RolloutSnapshot)[];
  /** New tail items of the append-only arrays. */
  append: { timeline?: TimelinePoint[]; analysis?: Measurement[]; events?: RolloutEvent[] };
  /**
   * Items removed from the front of an append-only array before the tail is appended: the engine's
   * record keeps a capped window (e.g. the last 240 timeline entries), so a full window slides.
   */
  drop?: Partial<Record<AppendField, number>>;
}

// ---------------------------------------------------------------- host → webview

export type HostMessage =
  | { type: 'snapshot'; key: RolloutKey; snapshot: RolloutSnapshot; protectedEnv: boolean }
  | { type: 'delta'; key: RolloutKey; delta: SnapshotDelta }
  | { type: 'actionResult'; key: RolloutKey; requestId: number; action: RolloutAction; ok: boolean; message: string }
  | { type: 'unavailable'; key: RolloutKey; message: string };

// ---------------------------------------------------------------- webview → host

export type WebviewMessage =
  /** Sent once the page has loaded; `haveSeq` is the seq it restored from its state, if any. */
  | { type: 'ready'; key: RolloutKey; haveSeq?: number }
  /** The user pressed an action button. */
  | { type: 'act'; key: RolloutKey; action: RolloutAction; requestId: number }
  /** The webview missed a delta (seq gap) and needs the full snapshot. */
  | { type: 'resync'; key: RolloutKey; haveSeq: number };

export type WebviewMessageType = WebviewMessage['type'];

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

/** What the host knows when a message arrives: the panel's rollout and its latest snapshot. */
export interface ValidationContext {
  key: RolloutKey;
  snapshot?: Pick<RolloutSnapshot, 'actions'>;
}

const MAX_NAME = 253; // Kubernetes names never exceed a DNS subdomain's 253 characters.
// Loose on purpose (the deploy-file rules own naming); it only keeps control characters and paths out.
const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): string | undefined {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) return `${where}: unexpected field \`${k}\` (expected only ${allowed.map((a) => `\`${a}\``).join(', ')})`;
  }
  return undefined;
}

function checkSeq(v: unknown, field: string): string | undefined {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return `\`${field}\` must be a non-negative integer, got ${describe(v)}`;
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a ${v.length}-character string` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Structural check of a rollout key (no knowledge of which rollout the panel shows). */
export function parseKey(v: unknown): Validation<RolloutKey> {
  if (!isRecord(v)) return { ok: false, error: `\`key\` must be an object {pipeline, environment}, got ${describe(v)}` };
  const extra = onlyKeys(v, ['pipeline', 'environment'], '`key`');
  if (extra) return { ok: false, error: extra };
  for (const f of ['pipeline', 'environment'] as const) {
    const s = v[f];
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME || !NAME_RE.test(s)) {
      return { ok: false, error: `\`key.${f}\` must be a name (letters, digits, '-', '.', '_'; at most ${MAX_NAME} characters), got ${describe(s)}` };
    }
  }
  return { ok: true, value: { pipeline: v.pipeline as string, environment: v.environment as string } };
}

export function sameKey(a: RolloutKey, b: RolloutKey): boolean {
  return a.pipeline === b.pipeline && a.environment === b.environment;
}

export function keyId(k: RolloutKey): string {
  return `${k.pipeline}/${k.environment}`;
}

/** Structural parse of a message from the webview: shape, types and field set, nothing else. */
export function parseWebviewMessage(raw: unknown): Validation<WebviewMessage> {
  if (!isRecord(raw)) return { ok: false, error: `message must be an object, got ${describe(raw)}` };
  const type = raw.type;
  if (typeof type !== 'string') return { ok: false, error: `message \`type\` must be a string, got ${describe(type)}` };
  const key = parseKey(raw.key);
  switch (type) {
    case 'ready': {
      const extra = onlyKeys(raw, ['type', 'key', 'haveSeq'], 'ready');
      if (extra) return { ok: false, error: extra };
      if (!key.ok) return key;
      if (raw.haveSeq !== undefined) {
        const e = checkSeq(raw.haveSeq, 'haveSeq');
        if (e) return { ok: false, error: e };
      }
      return { ok: true, value: raw.haveSeq === undefined ? { type, key: key.value } : { type, key: key.value, haveSeq: raw.haveSeq as number } };
    }
    case 'act': {
      const extra = onlyKeys(raw, ['type', 'key', 'action', 'requestId'], 'act');
      if (extra) return { ok: false, error: extra };
      if (!key.ok) return key;
      const action = raw.action;
      if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
        return { ok: false, error: `\`action\` must be one of ${ACTIONS.join(', ')}, got ${describe(action)}` };
      }
      const e = checkSeq(raw.requestId, 'requestId');
      if (e) return { ok: false, error: e };
      return { ok: true, value: { type, key: key.value, action: action as RolloutAction, requestId: raw.requestId as number } };
    }
    case 'resync': {
      const extra = onlyKeys(raw, ['type', 'key', 'haveSeq'], 'resync');
      if (extra) return { ok: false, error: extra };
      if (!key.ok) return key;
      const e = checkSeq(raw.haveSeq, 'haveSeq');
      if (e) return { ok: false, error: e };
      return { ok: true, value: { type, key: key.value, haveSeq: raw.haveSeq as number } };
    }
    default:
      return { ok: false, error: `unknown message type ${describe(type)} (expected ready, act or resync)` };
  }
}

/**
 * Full check the host runs on every incoming message: structure, then that it is about the rollout this
 * panel shows, then (for actions) that the engine currently allows the action. `start` is never accepted
 * from the dashboard: starting a run needs an image choice the tree and the palette make.
 */
export function validateWebviewMessage(raw: unknown, ctx: ValidationContext): Validation<WebviewMessage> {
  const parsed = parseWebviewMessage(raw);
  if (!parsed.ok) return parsed;
  const msg = parsed.value;
  if (!sameKey(msg.key, ctx.key)) {
    return { ok: false, error: `unknown rollout ${keyId(msg.key)}: this panel shows ${keyId(ctx.key)}` };
  }
  if (msg.type === 'act') {
    if (msg.action === 'start') return { ok: false, error: 'action `start` is not offered by the dashboard' };
    if (!ctx.snapshot) return { ok: false, error: `action \`${msg.action}\` refused: the rollout's state is not known yet` };
    const avail = ctx.snapshot.actions[msg.action];
    if (!avail?.allowed) {
      return { ok: false, error: `action \`${msg.action}\` not allowed: ${avail?.reason ?? 'the engine does not offer it now'}` };
    }
  }
  return { ok: true, value: msg };
}

/**
 * Light check of what the webview receives from the host. The host is trusted, but a stale or
 * mismatched message (another panel's state restored, an old protocol) must not corrupt the view;
 * full snapshots are large, so only the envelope is checked here.
 */
export function parseHostMessage(raw: unknown): Validation<HostMessage> {
  if (!isRecord(raw)) return { ok: false, error: `message must be an object, got ${describe(raw)}` };
  const key = parseKey(raw.key);
  if (!key.ok) return key;
  switch (raw.type) {
    case 'snapshot':
      if (!isRecord(raw.snapshot) || typeof raw.snapshot.seq !== 'number' || !Array.isArray(raw.snapshot.timeline)) {
        return { ok: false, error: 'snapshot message without a snapshot (seq, timeline)' };
      }
      return { ok: true, value: raw as unknown as HostMessage };
    case 'delta': {
      const d = raw.delta;
      if (!isRecord(d) || checkSeq(d.fromSeq, 'fromSeq') || checkSeq(d.toSeq, 'toSeq') || !isRecord(d.set) || !Array.isArray(d.unset) || !isRecord(d.append) || (d.drop !== undefined && !isRecord(d.drop))) {
        return { ok: false, error: 'delta message with a malformed delta' };
      }
      return { ok: true, value: raw as unknown as HostMessage };
    }
    case 'actionResult':
      if (typeof raw.ok !== 'boolean' || typeof raw.message !== 'string' || typeof raw.action !== 'string') {
        return { ok: false, error: 'actionResult message with malformed fields' };
      }
      return { ok: true, value: raw as unknown as HostMessage };
    case 'unavailable':
      if (typeof raw.message !== 'string') return { ok: false, error: 'unavailable message without a message' };
      return { ok: true, value: raw as unknown as HostMessage };
    default:
      return { ok: false, error: `unknown message type ${describe(raw.type)}` };
  }
}

/** What the webview keeps with `setState` so a reloaded window restores the panel. */
export interface WebviewState {
  version: number;
  key: RolloutKey;
  /** Last snapshot shown (the timeline may be trimmed to keep the state small). */
  snapshot?: RolloutSnapshot;
}

export function parseWebviewState(raw: unknown): WebviewState | undefined {
  if (!isRecord(raw) || raw.version !== PROTOCOL_VERSION) return undefined;
  const key = parseKey(raw.key);
  if (!key.ok) return undefined;
  const snap = raw.snapshot;
  const snapshotOk = isRecord(snap) && typeof snap.seq === 'number' && Array.isArray(snap.timeline) && snap.pipeline === key.value.pipeline && snap.environment === key.value.environment;
  return { version: PROTOCOL_VERSION, key: key.value, snapshot: snapshotOk ? (snap as unknown as RolloutSnapshot) : undefined };
}
