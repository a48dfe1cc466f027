// The committed standalone validator must be generated from the current schema.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

describe('precompiled schema validator', () => {
  it('is up to date with schemas/pipeline.schema.json (node scripts/gen-validator.mjs)', () => {
    const root = path.resolve(__dirname, '../../..');
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'gen-validator.mjs'), '--check'], { cwd: root, stdio: 'pipe' });
    } catch (err) {
      assert.fail(String((err as { stderr?: Buffer }).stderr ?? err));
    }
  });
});
