// Entry the VS Code extension host loads through `extensionTestsPath`: runs every compiled suite file
// next to this bundle with mocha and resolves/rejects so VS Code reports the exit code to the driver.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  const suiteDir = path.join(__dirname, 'suite');
  const files = fs.existsSync(suiteDir) ? fs.readdirSync(suiteDir).filter((f) => f.endsWith('.test.js')).sort() : [];
  const filter = process.env.KD_HOST_GREP;
  if (filter) mocha.grep(filter);
  for (const f of files) mocha.addFile(path.join(suiteDir, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const stats = runner.stats ?? { passes: 0, failures, pending: 0 };
      // A machine-readable line the runner on the outside parses for the counts.
      console.log(`KD-HOST-RESULT ${JSON.stringify({ passed: stats.passes, failed: stats.failures, pending: stats.pending, files: files.length })}`);
      if (failures > 0) reject(new Error(`${failures} host test(s) failed`));
      else resolve();
    });
  });
}
