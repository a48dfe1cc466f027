// Every KD1xx rule: the negative case (a valid variant stays clean) and the positive case (the rule
// fires once, at the exact key or value at fault), plus its quick fix where it has one.
import assert from 'node:assert/strict';
import { BASE, applyFix, check, codes, edit, expectOne, rangeOf } from './helpers';

describe('deploy file rules (KD1xx)', () => {
  it('the base fixture is clean', () => {
    assert.deepEqual(check(BASE), []);
  });

  describe('KD101 stage weights sum to 100', () => {
    it('accepts weights summing to 100 and an omitted `current` (it takes the rest)', () => {
      assert.deepEqual(codes(edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 50, baseline: 10 }')), []);
    });
    it('flags the `weights` key and offers to fix `current`', () => {
      const text = edit(BASE, '{ canary: 10, baseline: 10, current: 80 }', '{ canary: 10, baseline: 10, current: 90 }');
      const d = expectOne(text, 'KD101', rangeOf(text, 'weights'));
      assert.match(d.message, /must sum to 100, got canary 10 \+ baseline 10 \+ current 90 = 110/);
      assert.deepEqual(d.fix?.edits[0].range, rangeOf(text, '90'));
      assert.deepEqual(check(applyFix(text, d)), []);
    });
    it('flags canary + baseline above 100 when `current` is omitted', () => {
      const text = edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 95, baseline: 10 }');
      const d = expectOne(text, 'KD101', rangeOf(text, 'weights', { occurrence: 1 }));
      assert.match(d.message, /= 105/);
    });
  });

  describe('KD102 canary weight never decreases', () => {
    it('accepts equal weights in consecutive stages', () => {
      const text = edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 10, baseline: 10, current: 80 }');
      assert.deepEqual(codes(text), []);
    });
    it('flags the later stage\'s canary value', () => {
      const text = edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 5, baseline: 10, current: 85 }');
      const d = expectOne(text, 'KD102', rangeOf(text, '5', { after: 'current: 80 }' }));
      assert.match(d.message, /goes down from 10% \(stage 1\) to 5% \(stage 2\)/);
    });
  });

  describe('KD103 baseline weight needs baseline: true', () => {
    it('flags each baseline weight when the strategy runs no baseline', () => {
      const text = edit(BASE, '    baseline: true\n', '');
      const all = check(text).filter((d) => d.code === 'KD103');
      assert.equal(all.length, 2);
      assert.deepEqual(all[0].range, rangeOf(text, '10', { after: 'canary: 10, baseline: ' }));
      assert.deepEqual(codes(text).filter((c) => c !== 'KD103'), []);
    });
    it('accepts baseline weights with `baseline: true`, and zero baseline weight without it', () => {
      let text = edit(BASE, '    baseline: true\n', '');
      text = edit(text, '{ canary: 10, baseline: 10, current: 80 }', '{ canary: 10, baseline: 0, current: 90 }');
      text = edit(text, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 50, current: 50 }');
      assert.deepEqual(codes(text), []);
    });
  });

  describe('KD121 baseline without traffic', () => {
    it('warns at `baseline` when no stage gives the baseline traffic', () => {
      let text = edit(BASE, '{ canary: 10, baseline: 10, current: 80 }', '{ canary: 10, current: 90 }');
      text = edit(text, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 50, current: 50 }');
      const d = expectOne(text, 'KD121', rangeOf(text, 'baseline', { after: 'type: canary' }));
      assert.equal(d.severity, 'warning');
    });
  });

  describe('KD104 an auto stage has analysis', () => {
    it('accepts manual stages without analysis', () => {
      assert.deepEqual(codes(BASE), []);
    });
    it('flags `mode: auto` without analysis at the mode value', () => {
      const text = edit(BASE, '        mode: manual\n', '        mode: auto\n');
      expectOne(text, 'KD104', rangeOf(text, 'auto', { after: 'canary: 50' }));
    });
  });

  describe('KD105 cron schedules', () => {
    for (const good of ['*/5 * * * *', '0 9-17 * * MON-FRI', '15,45 */2 1 JAN,JUL *']) {
      it(`accepts "${good}"`, () => {
        assert.deepEqual(codes(edit(BASE, '"*/1 * * * *"', `"${good}"`)), []);
      });
    }
    for (const [bad, why] of [['*/1 * * *', /5 fields.*got 4/], ['0 */1 * * * *', /5 fields.*got 6/], ['61 * * * *', /61/], ['*/0 * * * *', /0/], ['a b c d e', /Invalid/i]] as const) {
      it(`flags "${bad}" at the schedule value`, () => {
        const text = edit(BASE, '"*/1 * * * *"', `"${bad}"`);
        const d = expectOne(text, 'KD105', rangeOf(text, `"${bad}"`));
        assert.match(d.message, why);
      });
    }
  });

  describe('KD106 percentages in (0, 100]', () => {
    it('accepts 100 and 0.5', () => {
      assert.deepEqual(codes(edit(BASE, 'successRate: 99', 'successRate: 100')), []);
      assert.deepEqual(codes(edit(BASE, 'successRate: 99', 'successRate: 0.5')), []);
    });
    for (const bad of ['0', '100.5', '-3']) {
      it(`flags successRate ${bad}`, () => {
        const text = edit(BASE, 'successRate: 99', `successRate: ${bad}`);
        const d = expectOne(text, 'KD106', rangeOf(text, bad, { after: 'successRate: ' }));
        assert.match(d.message, /more than 0 and at most 100/);
      });
    }
  });

  describe('KD107 durations', () => {
    it('accepts 30s, 2m, 1h30m and 500ms', () => {
      for (const d of ['30s', '2m', '1h30m', '500ms']) {
        assert.deepEqual(codes(edit(BASE, 'mode: manual\n', `mode: manual\n        pause: ${d}\n`)), [], d);
      }
    });
    it('flags a duration that does not parse at its value', () => {
      const text = edit(BASE, 'mode: manual\n', 'mode: manual\n        pause: 5 min\n');
      const d = expectOne(text, 'KD107', rangeOf(text, '5 min'));
      assert.match(d.message, /`pause` must be a duration like `30s`/);
    });
    it('flags a zero timeout', () => {
      const text = edit(BASE, 'command: [sh, -c, "true"] }', 'command: [sh, -c, "true"], timeout: 0s }');
      expectOne(text, 'KD107', rangeOf(text, '0s'));
    });
  });

  describe('KD108 referenced tests exist', () => {
    it('flags an unknown test and suggests the close name', () => {
      const text = edit(BASE, 'tests: [smoke]', 'tests: [smok]');
      const d = expectOne(text, 'KD108', rangeOf(text, 'smok', { after: 'tests: [' }));
      assert.match(d.message, /did you mean `smoke`/);
      assert.deepEqual(check(applyFix(text, d)), []);
    });
    it('flags references in simple and blue-green strategies too', () => {
      const text = edit(BASE, / {4}type: canary[\s\S]*?(?= {2}tests:\n)/.exec(BASE)![0], '    type: blueGreen\n    tests: [e2e]\n');
      const d = expectOne(text, 'KD108', rangeOf(text, 'e2e'));
      assert.match(d.message, /defined tests: `smoke`/);
    });
  });

  describe('KD122 blue-green analysis needs preview traffic', () => {
    const blueGreen = (extra: string) => edit(BASE, / {4}type: canary[\s\S]*?(?= {2}tests:\n)/.exec(BASE)![0], `    type: blueGreen\n${extra}`);
    const analysis = '    analysis:\n      successRate: 99\n      schedule: "*/1 * * * *"\n      checks: 3\n';
    it('accepts analysis with a preview share, and no analysis without one', () => {
      assert.deepEqual(codes(blueGreen(`    previewWeight: 10\n${analysis}`)), []);
      assert.deepEqual(codes(blueGreen('    previewWeight: 0\n')), []);
    });
    it('warns at `analysis` when previewWeight is 0 or left out', () => {
      for (const text of [blueGreen(analysis), blueGreen(`    previewWeight: 0\n${analysis}`)]) {
        const d = expectOne(text, 'KD122', rangeOf(text, 'analysis', { after: 'type: blueGreen' }));
        assert.equal(d.severity, 'warning');
        assert.match(d.message, /previewWeight/);
      }
    });
  });

  describe('KD109 / KD110 `after`', () => {
    it('flags an unknown environment with a suggestion', () => {
      const text = edit(BASE, 'after: staging', 'after: stagin');
      const d = expectOne(text, 'KD109', rangeOf(text, 'stagin', { after: 'after: ' }));
      assert.equal(applyFix(text, d), BASE);
    });
    it('flags an environment after itself', () => {
      const text = edit(BASE, 'after: staging', 'after: production');
      expectOne(text, 'KD110', rangeOf(text, 'production', { after: 'after: ' }));
    });
    it('flags every `after` of a cycle', () => {
      const text = edit(BASE, '      namespace: shop-staging\n', '      namespace: shop-staging\n      after: production\n');
      const ds = check(text).filter((d) => d.code === 'KD110');
      assert.equal(ds.length, 2);
      assert.deepEqual(ds[0].range, rangeOf(text, 'production', { after: 'after: ' }));
      assert.deepEqual(ds[1].range, rangeOf(text, 'staging', { after: 'protected: true' }));
      assert.match(ds[0].message, /cycle \(staging → production → staging\)/);
    });
  });

  describe('KD111 / KD112 / KD113 unique names', () => {
    it('flags a second environment with the same name', () => {
      const text = edit(BASE, '    - name: production', '    - name: staging');
      const d = expectOne(text, 'KD111', rangeOf(text, 'staging', { after: 'namespace: shop-staging' }), { others: ['KD110'] });
      assert.match(d.message, /first on line 8/);
    });
    it('flags a test defined twice at its second key', () => {
      const text = `${BASE}    smoke: { image: "registry.example.com/smoke:2.0" }\n`;
      expectOne(text, 'KD112', rangeOf(text, 'smoke', { after: '"true"] }\n' }));
    });
    it('flags a pipeline name used twice in one file, keeping the first pipeline', () => {
      const text = `${BASE}---\n${BASE}`;
      const d = expectOne(text, 'KD113', rangeOf(text, 'shop', { after: '---\n' }));
      assert.match(d.message, /line 4/);
      const r = (() => {
        const { parseDeployFile } = require('../../../src/deployfile/parse') as typeof import('../../../src/deployfile/parse');
        return parseDeployFile(text, '');
      })();
      assert.equal(r.pipelines.length, 1);
      assert.equal(r.pipelines[0].documentIndex, 0);
    });
    it('accepts two pipelines with different names', () => {
      assert.deepEqual(codes(`${BASE}---\n${BASE.replace('name: shop', 'name: shop-two')}`), []);
    });
  });

  describe('KD114 / KD115 router fields', () => {
    const withTraffic = (t: string) => edit(BASE, '    baseline: true\n', `    baseline: true\n    traffic: ${t}\n`);
    it('accepts each router with its resources', () => {
      assert.deepEqual(codes(withTraffic('{ router: istio, virtualService: shop, destinationRule: shop }')), []);
      assert.deepEqual(codes(withTraffic('{ router: gatewayApi, httpRoute: shop }')), []);
      assert.deepEqual(codes(withTraffic('{ router: nginx, ingress: shop }')), []);
      assert.deepEqual(codes(withTraffic('{ router: replicas, replicas: 10 }')), []);
    });
    it('istio needs its VirtualService (and DestinationRule)', () => {
      const text = withTraffic('{ router: istio, destinationRule: shop }');
      const d = expectOne(text, 'KD114', rangeOf(text, 'istio'));
      assert.match(d.message, /traffic\.virtualService/);
    });
    it('gatewayApi needs its HTTPRoute', () => {
      const text = withTraffic('{ router: gatewayApi }');
      assert.match(expectOne(text, 'KD114', rangeOf(text, 'gatewayApi')).message, /httpRoute/);
    });
    it('nginx needs its Ingress', () => {
      const text = withTraffic('{ router: nginx }');
      assert.match(expectOne(text, 'KD114', rangeOf(text, 'nginx')).message, /ingress/);
    });
    it('warns about a field of another router at its key', () => {
      const text = withTraffic('{ router: gatewayApi, httpRoute: shop, virtualService: shop }');
      expectOne(text, 'KD115', rangeOf(text, 'virtualService'));
    });
  });

  describe('KD116 / KD117 images', () => {
    it('accepts tags, digests, ports and nested paths', () => {
      for (const img of ['nginx:1.27', 'localhost:5000/team/app:v1', 'ghcr.io/a/b/c:1.0-rc.1', `app@sha256:${'a'.repeat(64)}`]) {
        assert.deepEqual(codes(edit(BASE, 'registry.example.com/shop:1.2.0', img)), [], img);
      }
    });
    for (const bad of ['Registry/App:1', 'shop:-bad', 'a b:1', 'shop@sha256:xyz']) {
      it(`flags "${bad}"`, () => {
        const text = edit(BASE, 'image: registry.example.com/shop:1.2.0', `image: "${bad}"`);
        expectOne(text, 'KD116', rangeOf(text, `"${bad}"`));
      });
    }
    it('warns for no tag with a fix that adds one (quoted value: before the quote)', () => {
      const text = edit(BASE, 'registry.example.com/shop:1.2.0', '"registry.example.com/shop"');
      const d = expectOne(text, 'KD117', rangeOf(text, '"registry.example.com/shop"'));
      assert.equal(d.severity, 'warning');
      assert.equal(d.fix?.snippet, true);
      const at = rangeOf(text, '"registry.example.com/shop"').end;
      assert.deepEqual(d.fix?.edits[0].range.start, { line: at.line, character: at.character - 1 });
      const fixed = applyFix(text, d).replace('${1:1.0.0}', '2.0.0');
      assert.deepEqual(check(fixed), []);
    });
    it('warns for :latest in test images too', () => {
      const text = edit(BASE, 'registry.example.com/smoke:1.0', 'registry.example.com/smoke:latest');
      const d = expectOne(text, 'KD117', rangeOf(text, '"registry.example.com/smoke:latest"'));
      assert.deepEqual(d.fix?.edits[0].range, rangeOf(text, 'latest', { after: 'smoke:' }));
    });
  });

  describe('KD118 protected environment without after', () => {
    it('warns at `protected`', () => {
      const text = edit(BASE, '      after: staging\n', '');
      expectOne(text, 'KD118', rangeOf(text, 'protected'));
    });
  });

  describe('KD119 analysis has a threshold', () => {
    it('flags an analysis that checks nothing at its key', () => {
      const text = edit(BASE, 'successRate: 99, ', '');
      expectOne(text, 'KD119', rangeOf(text, 'analysis'));
    });
    it('accepts a latency-only analysis', () => {
      assert.deepEqual(codes(edit(BASE, 'successRate: 99', 'latencyP99Ms: 500')), []);
    });
  });

  describe('KD120 simple strategy surge', () => {
    const simple = (extra: string) => edit(BASE, / {4}type: canary[\s\S]*?(?= {2}tests:\n)/.exec(BASE)![0], `    type: simple\n${extra}`);
    it('flags maxSurge 0 with maxUnavailable 0', () => {
      const text = simple('    maxSurge: 0\n    maxUnavailable: "0%"\n');
      expectOne(text, 'KD120', rangeOf(text, '"0%"'));
    });
    it('accepts maxSurge 0 with maxUnavailable 1', () => {
      assert.deepEqual(codes(simple('    maxSurge: 0\n    maxUnavailable: 1\n')), []);
    });
  });
});
