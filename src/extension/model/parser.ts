// The deploy-file parser, loaded on first use (it brings the schema validator along).
import type { ParseResult } from '../../deployfile/model';

export type ParseFn = (text: string, file: string) => ParseResult;

let parser: Promise<ParseFn> | undefined;

export function loadParser(): Promise<ParseFn> {
  parser ??= import('../../deployfile/parse').then((m) => m.parseDeployFile as ParseFn);
  return parser;
}
