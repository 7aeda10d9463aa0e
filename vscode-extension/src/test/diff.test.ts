import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDiff, createsFile, DiffError, ProposedEdit, sidesOf, splitLines } from '../diff';

// diffs as the server makes them (Python difflib.unified_diff, lsp_server/workspace_edits.py)
const BEFORE = 'def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n';
const AFTER = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';
const DIFF =
  '--- a/calc.py\n+++ b/calc.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n \n \n def sub(a, b):\n';
const SECOND = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b  # checked\n';
const DIFF2 =
  '--- a/calc.py\n+++ b/calc.py\n@@ -3,4 +3,4 @@\n \n \n def sub(a, b):\n-    return a - b\n+    return a - b  # checked\n';

test('splitLines keeps line ends and a last line without one', () => {
  assert.deepEqual(splitLines('a\nb'), ['a\n', 'b']);
  assert.deepEqual(splitLines(''), []);
});

test('applyDiff forwards and backwards', () => {
  assert.equal(applyDiff(BEFORE, DIFF), AFTER);
  assert.equal(applyDiff(AFTER, DIFF, true), BEFORE);
});

test('a new file and a missing final newline', () => {
  const created = '--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+x = 1\n+y = 2\n\\ No newline at end of file\n';
  assert.equal(applyDiff('', created), 'x = 1\ny = 2');
  assert.equal(applyDiff('x = 1\ny = 2', created, true), '');
  assert.ok(createsFile({ path: 'new.py', label: '', diff: created, status: 'pending' }));
});

test('a file that changed since the edit is refused, not mangled', () => {
  assert.throws(() => applyDiff('something else\n', DIFF), DiffError);
});

test('sidesOf rebuilds each edit of a file from its current text', () => {
  const edits: ProposedEdit[] = [
    { path: 'calc.py', label: 'one', diff: DIFF, status: 'applied' },
    { path: 'calc.py', label: 'two', diff: DIFF2, status: 'applied' },
  ];
  assert.deepEqual(sidesOf(SECOND, edits, 0), { before: BEFORE, after: AFTER });
  assert.deepEqual(sidesOf(SECOND, edits, 1), { before: AFTER, after: SECOND });
  // a pending edit is not in the file yet (the refactor preview still waits)
  const pending: ProposedEdit[] = [{ ...edits[0] }, { ...edits[1], status: 'pending' }];
  assert.deepEqual(sidesOf(AFTER, pending, 1), { before: AFTER, after: SECOND });
});
