import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHostMessage, parseWebviewState, validateWebviewMessage, PROTOCOL_VERSION } from '../../../src/webview/protocol';
import { allActions } from './fixtures';

const key = { pipeline: 'checkout', environment: 'staging' };
const ctx = { key, snapshot: { actions: allActions({ promote: true, abort: true }) } };

function rejected(raw: unknown, pattern: RegExp, c = ctx): void {
  const r = validateWebviewMessage(raw, c);
  assert.equal(r.ok, false, `expected rejection of ${JSON.stringify(raw)}`);
  if (!r.ok) assert.match(r.error, pattern);
}

describe('dashboard protocol: host validation of webview messages', () => {
  it('accepts well-formed ready, resync and allowed actions', () => {
    assert.deepEqual(validateWebviewMessage({ type: 'ready', key }, ctx), { ok: true, value: { type: 'ready', key } });
    assert.deepEqual(validateWebviewMessage({ type: 'resync', key, haveSeq: 4 }, ctx), { ok: true, value: { type: 'resync', key, haveSeq: 4 } });
    assert.deepEqual(validateWebviewMessage({ type: 'act', key, action: 'promote', requestId: 1 }, ctx), { ok: true, value: { type: 'act', key, action: 'promote', requestId: 1 } });
  });

  it('rejects non-objects and unknown types', () => {
    rejected(null, /must be an object/);
    rejected('promote', /must be an object/);
    rejected([{ type: 'act' }], /must be an object, got an array/);
    rejected({ type: 'exec', key }, /unknown message type "exec"/);
    rejected({ key }, /`type` must be a string/);
  });

  it('rejects messages about another rollout', () => {
    rejected({ type: 'act', key: { pipeline: 'payments', environment: 'staging' }, action: 'promote', requestId: 1 }, /unknown rollout payments\/staging: this panel shows checkout\/staging/);
    rejected({ type: 'ready', key: { pipeline: 'checkout', environment: 'production' } }, /unknown rollout/);
  });

  it('rejects malformed fields, naming the field', () => {
    rejected({ type: 'act', key, action: 'promote', requestId: -1 }, /`requestId` must be a non-negative integer/);
    rejected({ type: 'act', key, action: 'promote', requestId: 1.5 }, /`requestId`/);
    rejected({ type: 'act', key, action: 'promote' }, /`requestId`/);
    rejected({ type: 'act', key, action: 'delete', requestId: 1 }, /`action` must be one of/);
    rejected({ type: 'act', key, action: 'promote', requestId: 1, confirm: 'staging' }, /unexpected field `confirm`/);
    rejected({ type: 'ready', key: { pipeline: 'checkout' } }, /`key.environment`/);
    rejected({ type: 'ready', key: { pipeline: '../../etc', environment: 'staging' } }, /`key.pipeline`/);
    rejected({ type: 'ready', key: { pipeline: 'checkout', environment: 'staging', x: 1 } }, /unexpected field `x`/);
    rejected({ type: 'resync', key }, /`haveSeq`/);
    rejected({ type: 'ready', key, haveSeq: '3' }, /`haveSeq`/);
  });

  it('refuses actions the engine does not allow, with its reason', () => {
    rejected({ type: 'act', key, action: 'resume', requestId: 2 }, /`resume` not allowed: resume is not possible in this state/);
    rejected({ type: 'act', key, action: 'start', requestId: 2 }, /not offered by the dashboard/);
    rejected({ type: 'act', key, action: 'promote', requestId: 2 }, /state is not known yet/, { key, snapshot: undefined } as never);
  });

  it('never accepts arbitrary input that is not a well-formed message for this panel (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const r = validateWebviewMessage(raw, ctx);
        if (!r.ok) return true;
        // Anything accepted must be exactly one of the three shapes, about this rollout.
        const m = r.value;
        return m.key.pipeline === 'checkout' && m.key.environment === 'staging' && ['ready', 'resync', 'act'].includes(m.type);
      }),
      { numRuns: 500 },
    );
  });

  it('forged act messages with random fields are rejected unless exactly right', () => {
    const actions = ['start', 'promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry', 'nuke'];
    fc.assert(
      fc.property(fc.constantFrom(...actions), fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), fc.string()), fc.constantFrom('checkout', 'payments', ''), (action, requestId, pipeline) => {
        const r = validateWebviewMessage({ type: 'act', key: { pipeline, environment: 'staging' }, action, requestId }, ctx);
        const shouldPass = (action === 'promote' || action === 'abort') && Number.isSafeInteger(requestId) && (requestId as number) >= 0 && pipeline === 'checkout';
        return r.ok === shouldPass;
      }),
      { numRuns: 300 },
    );
  });
});

describe('dashboard protocol: webview-side checks', () => {
  it('parses host messages and rejects malformed ones', () => {
    assert.equal(parseHostMessage({ type: 'delta', key, delta: { fromSeq: 1, toSeq: 2, set: {}, unset: [], append: {} } }).ok, true);
    assert.equal(parseHostMessage({ type: 'delta', key, delta: { fromSeq: -1, toSeq: 2, set: {}, unset: [], append: {} } }).ok, false);
    assert.equal(parseHostMessage({ type: 'snapshot', key, snapshot: { seq: 1 } }).ok, false);
    assert.equal(parseHostMessage({ type: 'other', key }).ok, false);
    assert.equal(parseHostMessage({ type: 'unavailable', key: { pipeline: 1 }, message: 'x' }).ok, false);
  });

  it('restores only a state of this protocol version with a consistent snapshot', () => {
    const snapshot = { seq: 3, timeline: [], pipeline: 'checkout', environment: 'staging' };
    assert.deepEqual(parseWebviewState({ version: PROTOCOL_VERSION, key, snapshot })?.snapshot, snapshot);
    assert.equal(parseWebviewState({ version: PROTOCOL_VERSION + 1, key, snapshot }), undefined);
    assert.equal(parseWebviewState({ version: PROTOCOL_VERSION, key, snapshot: { ...snapshot, pipeline: 'other' } })?.snapshot, undefined);
    assert.equal(parseWebviewState('garbage'), undefined);
  });
});
