// The examples are a contract for the engine, the sandbox seeder and the docs: valid, on the sandbox
// context first, with manifests that exist and describe the app the pipeline releases.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseDeployFile } from '../../../src/deployfile/parse';
import { deployFileTemplate } from '../../../src/extension/templates';

const dir = path.resolve(__dirname, '../../../examples');
const expected: Record<string, { pipeline: string; strategy: string; router?: string; namespace: string }> = {
  'simple.deploy.yaml': { pipeline: 'hello', strategy: 'simple', namespace: 'hello-staging' },
  'canary-replicas.deploy.yaml': { pipeline: 'checkout', strategy: 'canary', router: 'replicas', namespace: 'checkout-staging' },
  'canary-istio.deploy.yaml': { pipeline: 'payments', strategy: 'canary', router: 'istio', namespace: 'payments-staging' },
  'canary-gateway.deploy.yaml': { pipeline: 'search', strategy: 'canary', router: 'gatewayApi', namespace: 'search-staging' },
  'blue-green.deploy.yaml': { pipeline: 'profile', strategy: 'blueGreen', namespace: 'profile-staging' },
};

describe('examples/', () => {
  for (const [file, want] of Object.entries(expected)) {
    describe(file, () => {
      const abs = path.join(dir, file);
      const result = parseDeployFile(fs.readFileSync(abs, 'utf8'), abs);
      const p = result.pipelines[0];

      it('is valid, without warnings', () => {
        assert.deepEqual(result.diagnostics, []);
        assert.equal(result.pipelines.length, 1);
      });

      it('has the agreed pipeline, strategy, router and first environment on `sandbox`', () => {
        assert.equal(p.name, want.pipeline);
        assert.equal(p.strategy.type, want.strategy);
        if (want.router) assert.equal(p.strategy.type === 'canary' && p.strategy.traffic.router, want.router);
        assert.equal(p.environments[0].context, 'sandbox');
        assert.equal(p.environments[0].namespace, want.namespace);
      });

      it('lists manifests that exist and hold the Deployment (previous image) and Service it releases', () => {
        assert.ok(p.manifests.length > 0);
        const objects = p.manifests.flatMap((m) => parseAllDocuments(fs.readFileSync(m, 'utf8')).map((d) => d.toJS()));
        const deploy = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === p.app.deployment);
        assert.ok(deploy, `Deployment ${p.app.deployment}`);
        const container = deploy.spec.template.spec.containers.find((c: { name: string }) => c.name === p.app.container);
        assert.ok(container, `container ${p.app.container}`);
        assert.notEqual(container.image, p.image, 'the manifest runs the previous version');
        assert.equal(container.image.split(':')[0], p.image.split(':')[0]);
        assert.ok(objects.some((o) => o.kind === 'Service' && o.metadata.name === p.app.service), `Service ${p.app.service}`);
        assert.ok(!objects.some((o) => o.kind === 'Namespace'), 'namespaces are created by the seeder');
        if (p.strategy.type === 'canary' && p.strategy.traffic.router === 'istio') {
          assert.ok(objects.some((o) => o.kind === 'VirtualService' && o.metadata.name === (p.strategy as { traffic: { virtualService: string } }).traffic.virtualService));
          assert.ok(objects.some((o) => o.kind === 'DestinationRule'));
        }
        if (p.strategy.type === 'canary' && p.strategy.traffic.router === 'gatewayApi') {
          const route = p.strategy.traffic.httpRoute;
          assert.ok(objects.some((o) => o.kind === 'HTTPRoute' && o.metadata.name === route));
        }
      });
    });
  }

  it('holds no other deploy files than the agreed ones', () => {
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.deploy.yaml')).sort(), Object.keys(expected).sort());
  });

  it('the "Create Deploy File" template validates', () => {
    const r = parseDeployFile(deployFileTemplate('my-app'), '');
    assert.deepEqual(r.diagnostics, []);
  });
});
