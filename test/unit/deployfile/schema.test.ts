// Schema errors (KD05x) become messages that say what to write instead, at the key or value at fault.
import assert from 'node:assert/strict';
import { BASE, applyFix, check, edit, expectOne, rangeOf } from './helpers';

describe('deploy file schema messages (KD05x)', () => {
  it('enum: "`mode` must be `auto` or `manual`, got `automatic`" with a fix', () => {
    const text = edit(BASE, 'mode: auto\n', 'mode: automatic\n');
    const d = expectOne(text, 'KD051', rangeOf(text, 'automatic'), { others: ['KD104'] });
    assert.equal(d.message, '`mode` must be `auto` or `manual`, got `automatic`');
    assert.equal(d.fix?.edits[0].newText, 'auto');
  });

  it('unknown key: "did you mean `successRate`?" with a fix that renames the key', () => {
    const text = edit(BASE, 'successRate: 99', 'sucessRate: 99');
    const d = expectOne(text, 'KD052', rangeOf(text, 'sucessRate'));
    assert.equal(d.message, 'unknown key `sucessRate` in `analysis`: did you mean `successRate`?');
    assert.deepEqual(check(applyFix(text, d)), []);
  });

  it('unknown key without a close match lists the allowed keys', () => {
    const text = edit(BASE, '  image: registry', '  colour: blue\n  image: registry');
    const d = expectOne(text, 'KD052', rangeOf(text, 'colour'));
    assert.match(d.message, /allowed keys: `app`, `image`/);
    assert.equal(d.fix, undefined);
  });

  it('missing key: points at the parent key', () => {
    const text = edit(BASE, '  image: registry.example.com/shop:1.2.0\n', '');
    const d = expectOne(text, 'KD053', rangeOf(text, 'spec'));
    assert.equal(d.message, '`spec` is missing the required key `image`');
  });

  it('missing key in a list item: points at the item\'s first key', () => {
    const text = edit(BASE, '      context: prod\n', '');
    const d = expectOne(text, 'KD053', rangeOf(text, 'name', { after: 'shop-staging\n' }));
    assert.equal(d.message, '`environments[1]` is missing the required key `context`');
  });

  it('wrong type: names the expected and the actual type', () => {
    const text = edit(BASE, 'checks: 2', 'checks: two');
    const d = expectOne(text, 'KD050', rangeOf(text, 'two'));
    assert.equal(d.message, '`checks` must be a whole number, got text `two`');
  });

  it('wrong strategy type: lists the three strategies and suggests one', () => {
    const text = edit(BASE, 'type: canary', 'type: canry');
    const d = expectOne(text, 'KD051', rangeOf(text, 'canry'));
    assert.equal(d.message, '`type` must be `simple`, `canary` or `blueGreen`, got `canry`');
    assert.deepEqual(check(applyFix(text, d)), []);
  });

  it('strategy-specific keys: a canary key in a simple strategy is unknown there', () => {
    const text = edit(BASE, 'type: canary', 'type: simple');
    const ds = check(text);
    assert.ok(ds.some((d) => d.code === 'KD052' && d.message.startsWith('unknown key `stages` in `strategy`')), JSON.stringify(ds));
  });

  it('range limits: weights at most 100', () => {
    const text = edit(BASE, '{ canary: 50, baseline: 10, current: 40 }', '{ canary: 150, baseline: 10, current: 40 }');
    const d = check(text).find((x) => x.code === 'KD054')!;
    assert.deepEqual(d.range, rangeOf(text, '150'));
    assert.equal(d.message, '`canary` must be at most 100, got `150`');
  });

  it('names: test names and pipeline names are DNS labels', () => {
    const text = edit(BASE, '    smoke: {', '    Smoke_Test: {');
    const ds = check(text).filter((d) => d.code === 'KD055');
    assert.equal(ds.length, 1);
    assert.deepEqual(ds[0].range, rangeOf(text, 'Smoke_Test'));
    assert.match(ds[0].message, /^test name `Smoke_Test` must be a DNS label/);
  });

  it('duplicate list items (KD056) at the second one', () => {
    const text = edit(BASE, 'tests: [smoke]', 'tests: [smoke, smoke]');
    expectOne(text, 'KD056', rangeOf(text, 'smoke', { after: 'tests: [smoke, ' }));
  });

  it('metrics service format', () => {
    const text = `${BASE}  metrics:\n    prometheus:\n      service: prometheus\n`;
    const d = expectOne(text, 'KD055', rangeOf(text, 'prometheus', { after: 'service: ' }));
    assert.match(d.message, /namespace\/name:port/);
  });
});
