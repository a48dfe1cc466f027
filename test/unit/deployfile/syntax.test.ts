// YAML-level problems (KD001-KD004) get ranges at the fault, never a crash or line 1 by default.
import assert from 'node:assert/strict';
import { parseDeployFile } from '../../../src/deployfile/parse';
import { BASE, check, edit, rangeOf } from './helpers';

describe('deploy file syntax (KD00x)', () => {
  it('reports a YAML syntax error at its position and skips schema checks of that document', () => {
    const text = edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 50, baseline: 10, current: 40');
    const ds = check(text);
    assert.ok(ds.length >= 1);
    assert.ok(ds.every((d) => d.code === 'KD001'), JSON.stringify(ds));
    assert.ok(ds[0].range.start.line >= rangeOf(text, 'canary: 50').start.line, 'not before the broken flow mapping');
  });

  it('explains an unquoted cron schedule (an alias in YAML)', () => {
    const text = edit(BASE, '"*/1 * * * *"', '*/1 * * * *');
    const ds = check(text);
    assert.equal(ds[0].code, 'KD001');
    assert.match(ds[0].message, /quote cron schedules/);
    assert.equal(ds[0].range.start.line, rangeOf(text, '*/1').start.line);
  });

  it('reports a duplicate key at the second key with the line of the first', () => {
    const text = edit(BASE, '  name: shop\n', '  name: shop\n  name: shop2\n');
    const ds = check(text);
    assert.equal(ds.length, 1);
    assert.equal(ds[0].code, 'KD002');
    assert.deepEqual(ds[0].range, rangeOf(text, 'name', { after: 'name: shop\n' }));
    assert.match(ds[0].message, /first on line 4/);
  });

  it('bounds alias expansion: a billion-laughs document yields KD003 at the first alias', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = `${levels.join('\n')}\n`;
    const ds = check(text);
    assert.deepEqual(ds.map((d) => d.code), ['KD003']);
    assert.deepEqual(ds[0].range, rangeOf(text, '*a'));
  });

  it('expands small aliases and merge keys normally', () => {
    const text = edit(BASE, '    smoke: { image: "registry.example.com/smoke:1.0", command: [sh, -c, "true"] }\n',
      '    smoke: &t { image: "registry.example.com/smoke:1.0", command: [sh, -c, "true"] }\n    e2e:\n      <<: *t\n      timeout: 3m\n');
    const r = parseDeployFile(text, '');
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.pipelines[0].tests.e2e.image, 'registry.example.com/smoke:1.0');
    assert.equal(r.pipelines[0].tests.e2e.timeoutMs, 180_000);
  });

  it('reports a document that is not a mapping (KD004)', () => {
    const text = `${BASE}---\n- just\n- a list\n`;
    const ds = check(text);
    assert.deepEqual(ds.map((d) => d.code), ['KD004']);
    assert.equal(ds[0].range.start.line, rangeOf(text, '- just').start.line);
  });

  it('ignores empty documents and comment-only files', () => {
    assert.deepEqual(parseDeployFile('', ''), { pipelines: [], diagnostics: [] });
    assert.deepEqual(parseDeployFile('# nothing yet\n', ''), { pipelines: [], diagnostics: [] });
    const r = parseDeployFile(`---\n---\n${BASE}---\n`, '');
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.pipelines.length, 1);
    assert.equal(r.pipelines[0].documentIndex, 0);
  });

  it('reports tabs used for indentation', () => {
    const text = edit(BASE, '  name: shop', '\tname: shop');
    const ds = check(text);
    assert.ok(ds.some((d) => d.code === 'KD001' && d.range.start.line === 3), JSON.stringify(ds));
  });
});
