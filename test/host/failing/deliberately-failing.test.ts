// A fixture, not part of the suite: the host runner's self-check runs it and expects a non-zero exit,
// proving that a failing test inside the extension host is noticed.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

describe('deliberately failing fixture', () => {
  it('fails on purpose', () => {
    assert.equal(vscode.workspace.name === undefined ? 'no-workspace' : 'workspace', 'this value never matches');
  });
});
