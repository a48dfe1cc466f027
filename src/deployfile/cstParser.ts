// The `yaml` package's Parser (text → CST), taken from the package's own browser build.
//
// Why: the Node build's Parser.next() reads `process.env.LOG_TOKENS` (a debugging hook) once per
// lexical token. Node answers every process.env read through a C++ interceptor (~130 ns), and an
// 80-line deploy file has ~700 tokens: about a quarter of the whole parse. The browser build is the
// same source of the same package version, built without that hook (and without the Composer's
// LOG_STREAM hook); test/unit/deployfile/cstParser.test.ts checks that both builds produce the same
// CST, token for token, on the fixtures and on random text.
//
// The path is relative because the package's `exports` map offers its browser build to non-Node
// conditions only. Node 20 loads the ES module through require(); esbuild bundles it like any file.
// If a future `yaml` moves the file, we fall back to the exported Parser, which is correct, only
// slower; `parserBuild` says which one is in use and a unit test insists on the browser build.
import { Parser as NodeParser } from 'yaml';

type ParserClass = typeof NodeParser;

function loadBrowserParser(): ParserClass | undefined {
  try {
    const mod = require('../../node_modules/yaml/browser/dist/parse/parser.js') as { Parser?: ParserClass };
    return typeof mod.Parser === 'function' ? mod.Parser : undefined;
  } catch {
    return undefined;
  }
}

const BrowserParser = loadBrowserParser();

/** Which build of the yaml Parser is in use: 'browser' (no per-token env read) or 'node'. */
export const parserBuild: 'browser' | 'node' = BrowserParser ? 'browser' : 'node';

export const Parser: ParserClass = BrowserParser ?? NodeParser;
