// The deploy-file modules (yaml, the precompiled validator, the editor helpers) load on first use,
// not at activation.
export interface LanguageModules {
  parse: typeof import('../../deployfile/parse');
  completion: typeof import('../../deployfile/editor/completion');
  hover: typeof import('../../deployfile/editor/hover');
  outline: typeof import('../../deployfile/editor/outline');
  quickfix: typeof import('../../deployfile/editor/quickfix');
}

let loaded: Promise<LanguageModules> | undefined;

export function loadLanguage(): Promise<LanguageModules> {
  loaded ??= Promise.all([
    import('../../deployfile/parse'),
    import('../../deployfile/editor/completion'),
    import('../../deployfile/editor/hover'),
    import('../../deployfile/editor/outline'),
    import('../../deployfile/editor/quickfix'),
  ]).then(([parse, completion, hover, outline, quickfix]) => ({ parse, completion, hover, outline, quickfix }));
  return loaded;
}
