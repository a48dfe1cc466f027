// `kube-delivery validate`, in-process through the CLI dispatcher.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../../src/cli/main';
import { memoryIO } from '../cli.test';
import { BASE, edit } from './helpers';

describe('kube-delivery validate', () => {
  const root = path.resolve(__dirname, '../../..');
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kd-validate-'));
    fs.mkdirSync(path.join(tmp, 'apps', 'nested'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'apps', 'good.deploy.yaml'), BASE);
    fs.writeFileSync(path.join(tmp, 'apps', 'nested', 'bad.deploy.yml'), edit(BASE, 'mode: manual', 'mode: automatic'));
    fs.writeFileSync(path.join(tmp, 'apps', 'warn.deploy.yaml'), edit(BASE, 'shop:1.2.0', 'shop'));
    fs.writeFileSync(path.join(tmp, 'apps', 'notes.yaml'), 'not: a deploy file\n');
    fs.mkdirSync(path.join(tmp, 'empty'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exits 0 for the examples', async () => {
    const io = memoryIO(root);
    assert.equal(await runCli(['validate', 'examples'], io), 0, io.err.join(''));
    assert.equal(io.out.join(''), '');
    assert.match(io.err.join(''), /5 files checked: 0 errors, 0 warnings/);
  });

  it('recurses into directories and prints path:line:column: severity CODE message', async () => {
    const io = memoryIO(tmp);
    assert.equal(await runCli(['validate', 'apps'], io), 1);
    const lines = io.out.join('').trim().split('\n');
    const line = BASE.split('\n').findIndex((l) => l.includes('mode: manual')) + 1;
    const column = BASE.split('\n')[line - 1].indexOf('manual') + 1;
    assert.deepEqual(lines, [
      `${path.join('apps', 'nested', 'bad.deploy.yml')}:${line}:${column}: error KD051 \`mode\` must be \`auto\` or \`manual\`, got \`automatic\``,
      `${path.join('apps', 'warn.deploy.yaml')}:6:10: warning KD117 \`registry.example.com/shop\` has no tag, so it means \`:latest\` and a rollout is not reproducible: pin a version tag`,
    ]);
  });

  it('exits 0 with warnings only', async () => {
    const io = memoryIO(tmp);
    assert.equal(await runCli(['validate', 'apps/warn.deploy.yaml', 'apps/good.deploy.yaml'], io), 0);
  });

  it('prints a JSON array with 1-based positions', async () => {
    const io = memoryIO(tmp);
    assert.equal(await runCli(['validate', '--format', 'json', 'apps/**/*.deploy.y*ml'], io), 1);
    const out = JSON.parse(io.out.join(''));
    assert.equal(out.length, 2);
    assert.deepEqual(Object.keys(out[0]).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
    assert.equal(out[0].file, 'apps/nested/bad.deploy.yml');
    assert.equal(out[0].endColumn - out[0].column, 'automatic'.length);
    const io2 = memoryIO(tmp);
    assert.equal(await runCli(['validate', '--format=json', 'apps/good.deploy.yaml'], io2), 0);
    assert.deepEqual(JSON.parse(io2.out.join('')), []);
  });

  it('exits 2 with one line for unreadable files, empty directories, globs matching nothing and bad options', async () => {
    for (const args of [['missing.deploy.yaml'], ['empty'], ['nothing/*.deploy.yaml'], ['--format', 'xml', 'apps'], ['--frobnicate']]) {
      const io = memoryIO(tmp);
      assert.equal(await runCli(['validate', ...args], io), 2, args.join(' '));
      const err = io.err.join('');
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.match(err, /^kube-delivery validate: /);
      assert.doesNotMatch(err, /\n\s+at /);
    }
  });

  it('validates the current directory without arguments, and prints help', async () => {
    const io = memoryIO(path.join(tmp, 'apps'));
    assert.equal(await runCli(['validate'], io), 1);
    assert.match(io.err.join(''), /3 files checked: 1 error, 1 warning/);
    const help = memoryIO(tmp);
    assert.equal(await runCli(['validate', '--help'], help), 0);
    assert.match(help.out.join(''), /--format text\|json/);
  });
});
