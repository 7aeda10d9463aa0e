import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EditorDiagnostic, referencedDiagnostics } from '../diagnostics';

const at = (line: number, message: string, extra: Partial<EditorDiagnostic> = {}): EditorDiagnostic => ({
  range: { start: { line, character: 0 }, end: { line, character: 5 } },
  message,
  ...extra,
});
const diagnostics = [at(1, 'undefined name x', { severity: 0, source: 'pyright', code: { value: 'reportUndefined' } }), at(9, 'unused import', { severity: 1 })];

test('#diagnostics sends the diagnostics on the selected lines, in LSP shape', () => {
  const selection = { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } };
  assert.deepEqual(referencedDiagnostics('fix #diagnostics here', diagnostics, selection), [
    {
      range: { start: { line: 1, character: 0 }, end: { line: 1, character: 5 } },
      message: 'undefined name x',
      severity: 1, // VS Code's Error (0) is LSP's 1
      source: 'pyright',
      code: 'reportUndefined',
    },
  ]);
});

test('without a selection, the whole file; without #diagnostics, nothing', () => {
  assert.deepEqual(referencedDiagnostics('#diagnostics', diagnostics).map((d) => d.message), ['undefined name x', 'unused import']);
  assert.deepEqual(referencedDiagnostics('fix the bug', diagnostics), []);
  assert.deepEqual(referencedDiagnostics(undefined, diagnostics), []);
});
