// Mocha reporter: the human "spec" output on the terminal plus the stats as JSON in a file.
const fs = require('node:fs');
const Mocha = require('mocha');

class DualReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const out = options?.reporterOptions?.output;
    runner.once('end', () => {
      if (out) fs.writeFileSync(out, JSON.stringify({ stats: this.stats }));
    });
  }
}
module.exports = DualReporter;
