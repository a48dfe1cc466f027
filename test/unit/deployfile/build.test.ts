// The typed Pipeline: every default filled in, the same defaults the schema publishes, ranges attached.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseDeployFile } from '../../../src/deployfile/parse';
import { DEFAULTS } from '../../../src/deployfile/build';
import { parseDuration } from '../../../src/deployfile/duration';
import { schemaAt } from '../../../src/deployfile/schema';
import type { BlueGreenStrategy, CanaryStrategy, SimpleStrategy } from '../../../src/deployfile/model';
import { BASE, edit, rangeOf } from './helpers';

const MINIMAL = (strategy: string) => `apiVersion: kube-delivery.dev/v1alpha1
kind: Pipeline
metadata: { name: web }
spec:
  image: registry.example.com/web:1.0.0
  environments:
    - { name: dev, context: sandbox }
  strategy:
${strategy}`;

function only(text: string) {
  const r = parseDeployFile(text, '/repo/deploy/web.deploy.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.pipelines.length, 1);
  return r.pipelines[0];
}

describe('deploy file model building', () => {
  it('fills app, environment, metrics and simple-strategy defaults', () => {
    const p = only(MINIMAL('    type: simple\n'));
    assert.deepEqual(p.app, { deployment: 'web', container: 'web', service: 'web', port: 80 });
    assert.equal(p.environments[0].namespace, 'default');
    assert.equal(p.environments[0].protected, false);
    assert.equal(p.environments[0].after, undefined);
    assert.deepEqual(p.metrics, { prometheus: { service: { namespace: 'monitoring', name: 'prometheus', port: 9090 } } });
    const s = p.strategy as SimpleStrategy;
    assert.deepEqual({ ...s, range: undefined }, { type: 'simple', maxSurge: '25%', maxUnavailable: '25%', timeoutMs: 600_000, tests: [], range: undefined });
    assert.deepEqual(p.manifests, []);
    assert.equal(p.file, '/repo/deploy/web.deploy.yaml');
  });

  it('fills canary defaults: router, mode, current weight, analysis schedule/checks', () => {
    const p = only(MINIMAL('    type: canary\n    stages:\n      - weights: { canary: 30 }\n        analysis: { successRate: 99 }\n'));
    const s = p.strategy as CanaryStrategy;
    assert.deepEqual(s.traffic, { router: 'replicas' });
    assert.equal(s.baseline, false);
    assert.deepEqual(s.stages[0].weights, { canary: 30, baseline: 0, current: 70 });
    assert.equal(s.stages[0].mode, 'manual');
    assert.equal(s.stages[0].pauseMs, 0);
    assert.equal(s.stages[0].analysis?.schedule, '*/1 * * * *');
    assert.equal(s.stages[0].analysis?.checks, 3);
    assert.equal(s.stages[0].analysis?.failureLimit, 0);
  });

  it('fills blue-green defaults: preview service from the app service, delays', () => {
    const p = only(MINIMAL('    type: blueGreen\n'));
    const s = p.strategy as BlueGreenStrategy;
    assert.equal(s.previewService, 'web-preview');
    assert.equal(s.autoPromote, false);
    assert.equal(s.autoPromoteDelayMs, 0);
    assert.equal(s.scaleDownDelayMs, 30_000);
    assert.equal(s.previewWeight, 0);
  });

  it('uses the same defaults the JSON Schema publishes', () => {
    const bySchema = (segments: (string | number)[], value: unknown) => schemaAt(segments, value)?.default;
    const canary = { spec: { strategy: { type: 'canary' } } };
    const simple = { spec: { strategy: { type: 'simple' } } };
    const bg = { spec: { strategy: { type: 'blueGreen' } } };
    assert.equal(bySchema(['spec', 'app', 'port'], {}), DEFAULTS.port);
    assert.equal(bySchema(['spec', 'environments', 0, 'namespace'], {}), DEFAULTS.namespace);
    assert.equal(bySchema(['spec', 'strategy', 'maxSurge'], simple), DEFAULTS.maxSurge);
    assert.equal(bySchema(['spec', 'strategy', 'maxUnavailable'], simple), DEFAULTS.maxUnavailable);
    assert.equal(bySchema(['spec', 'strategy', 'timeout'], simple), DEFAULTS.simpleTimeout);
    assert.equal(bySchema(['spec', 'strategy', 'traffic', 'router'], canary), DEFAULTS.router);
    assert.equal(bySchema(['spec', 'strategy', 'stages', 0, 'mode'], canary), DEFAULTS.mode);
    assert.equal(bySchema(['spec', 'strategy', 'stages', 0, 'pause'], canary), DEFAULTS.pause);
    assert.equal(bySchema(['spec', 'strategy', 'stages', 0, 'analysis', 'schedule'], canary), DEFAULTS.schedule);
    assert.equal(bySchema(['spec', 'strategy', 'stages', 0, 'analysis', 'checks'], canary), DEFAULTS.checks);
    assert.equal(bySchema(['spec', 'strategy', 'stages', 0, 'analysis', 'failureLimit'], canary), DEFAULTS.failureLimit);
    assert.equal(bySchema(['spec', 'strategy', 'autoPromoteDelay'], bg), DEFAULTS.autoPromoteDelay);
    assert.equal(bySchema(['spec', 'strategy', 'scaleDownDelay'], bg), DEFAULTS.scaleDownDelay);
    assert.equal(bySchema(['spec', 'strategy', 'previewWeight'], bg), DEFAULTS.previewWeight);
    assert.equal(bySchema(['spec', 'tests', 'smoke', 'timeout'], {}), DEFAULTS.testTimeout);
    assert.equal(bySchema(['spec', 'metrics', 'prometheus', 'service'], {}), DEFAULTS.prometheusService);
  });

  it('every schema property has a description, and a default or a "Defaults to" sentence', () => {
    const missing: string[] = [];
    const visit = (segments: (string | number)[], value: unknown) => {
      const s = schemaAt(segments, value);
      if (!s?.properties) return;
      for (const [k, child] of Object.entries(s.properties)) {
        const c = schemaAt([...segments, k], value);
        const where = [...segments, k].join('.');
        if (!c?.description && !child.description) missing.push(`${where}: description`);
        const optional = !(s.required ?? []).includes(k);
        if (optional && c?.default === undefined && !/Defaults to|Required with|Optional|Takes precedence/.test(c?.description ?? '')) missing.push(`${where}: default`);
        if (c?.type === 'object' || c?.properties || c?.oneOf) visit([...segments, k], value);
        if (c?.items) visit([...segments, k, 0], value);
      }
    };
    for (const type of ['simple', 'canary', 'blueGreen']) visit([], { spec: { strategy: { type }, tests: { t: {} } } });
    visit(['spec', 'tests', 't'], {});
    assert.deepEqual(missing, []);
  });

  it('keeps ranges: environments, stages, analysis thresholds, tests', () => {
    const r = parseDeployFile(BASE, '');
    const p = r.pipelines[0];
    const s = p.strategy as CanaryStrategy;
    assert.deepEqual(s.stages[0].analysis?.thresholdRanges.successRate, rangeOf(BASE, '99'));
    assert.equal(p.environments[1].range.start.line, rangeOf(BASE, 'name: production').start.line);
    assert.equal(s.stages[1].range.start.line, rangeOf(BASE, 'weights: { canary: 50').start.line);
    assert.equal(p.tests.smoke.range.start.line, rangeOf(BASE, 'smoke: {').start.line);
    assert.equal(p.range.start.line, 0);
  });

  it('resolves manifests against the deploy file directory and parses durations', () => {
    const text = edit(BASE, '  environments:', '  manifests: [k8s/shop.yaml, /abs/other.yaml]\n  environments:');
    const p = parseDeployFile(text, '/repo/deploy/shop.deploy.yaml').pipelines[0];
    assert.deepEqual(p.manifests, [path.resolve('/repo/deploy/k8s/shop.yaml'), '/abs/other.yaml']);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5 min'), undefined);
    assert.equal(parseDuration('m5'), undefined);
  });

  it('builds no pipeline for a document with errors, but keeps pipelines of the valid documents', () => {
    const bad = edit(BASE, 'name: shop', 'name: shop2').replace('mode: manual', 'mode: sometimes');
    const r = parseDeployFile(`${BASE}---\n${bad}`, '');
    assert.equal(r.pipelines.length, 1);
    assert.equal(r.pipelines[0].name, 'shop');
    assert.ok(r.diagnostics.length > 0);
  });
});
