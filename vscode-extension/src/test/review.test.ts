import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addedLines, hunkLine, hunkSpan, isReviewParams, Review, ReviewParams } from '../review';

// two separate changes to a 14-line file: line 2 replaced, a line added after line 12
const PARAMS: ReviewParams = {
  runId: 'r1',
  path: 'calc.py',
  uri: 'file:///p/calc.py',
  label: 'SmallCode: edit calc.py',
  created: false,
  oldText: '',
  newText: '',
  diff: '',
  hunks: [
    { id: 0, header: '@@ -1,5 +1,5 @@', oldStart: 1, oldLines: 5, newStart: 1, newLines: 5, lines: [' a', '-b', '+B', ' c', ' d', ' e'] },
    { id: 1, header: '@@ -10,3 +10,4 @@', oldStart: 10, oldLines: 3, newStart: 10, newLines: 4, lines: [' j', ' k', ' l', '+M'] },
  ],
};

test('every hunk starts accepted; the answer lists the accepted ids and the feedback', () => {
  const review = new Review(PARAMS);
  assert.deepEqual(review.answer(), { accepted: [0, 1], stop: false });
  review.set(1, false);
  assert.deepEqual(review.answer(), { accepted: [0], stop: false });
  review.feedback = '  keep the file short ';
  assert.deepEqual(review.answer(true), { accepted: [0], feedback: 'keep the file short', stop: true });
  assert.equal(review.summary(), '1 of 2 changes accepted');
});

test('one hunk rejected with feedback: the rest still lands and the model hears why', () => {
  const review = new Review(PARAMS);
  review.rejectWithFeedback(1, '  M belongs in another file ');
  assert.deepEqual(review.answer(), { accepted: [0], feedback: 'change 2/2: M belongs in another file', stop: false });
  assert.equal(review.feedbackFor(1), 'M belongs in another file');
  // accepted again (toggled, or Accept All): its feedback goes with the rejection
  review.toggle(1);
  assert.deepEqual(review.answer(), { accepted: [0, 1], stop: false });
  assert.equal(review.feedbackFor(1), undefined);
  // with feedback on the whole change too, both reach the model
  review.rejectWithFeedback(0, 'keep b');
  review.feedback = 'smaller edits, please';
  assert.deepEqual(review.answer(), { accepted: [1], feedback: 'smaller edits, please\nchange 1/2: keep b', stop: false });
  review.rejectWithFeedback(0, '   ');
  assert.deepEqual(review.answer().feedback, 'smaller edits, please');
  review.rejectWithFeedback(9, 'unknown');
  assert.deepEqual(review.answer().accepted, [1]);
});

test('toggle, accept all, reject all; unknown ids are ignored', () => {
  const review = new Review(PARAMS);
  review.toggle(0);
  assert.deepEqual(review.acceptedIds, [1]);
  review.set(7, true);
  assert.deepEqual(review.acceptedIds, [1]);
  review.setAll(false);
  assert.deepEqual(review.answer().accepted, []);
  review.setAll(true);
  assert.deepEqual(review.answer().accepted, [0, 1]);
  assert.deepEqual(Review.dismissed(), { accepted: [], stop: false });
});

test('the lenses show the decision and offer the other one', () => {
  const review = new Review(PARAMS);
  assert.deepEqual(review.lensTitles(1), { state: '✓ Accepted (change 2/2)', action: '✗ Reject' });
  review.set(1, false);
  assert.deepEqual(review.lensTitles(1), { state: '✗ Rejected (change 2/2)', action: '✓ Accept' });
});

test('a hunk sits at its first changed line on the proposed side', () => {
  assert.equal(hunkLine(PARAMS.hunks[0], 15), 1);
  assert.equal(hunkLine(PARAMS.hunks[1], 15), 12);
  assert.deepEqual(addedLines(PARAMS.hunks[0]), [1, 1]);
  assert.deepEqual(addedLines(PARAMS.hunks[1]), [12, 12]);
  // a pure deletion adds nothing; its lens goes where the lines were, within the file
  const deletion = { id: 2, header: '@@ -3,2 +2,0 @@', oldStart: 3, oldLines: 2, newStart: 2, newLines: 0, lines: ['-x', '-y'] };
  assert.equal(addedLines(deletion), undefined);
  assert.equal(hunkLine(deletion, 10), 2);
  assert.equal(hunkLine(deletion, 1), 0);
});

test('the hunks at a line of the proposed side (for the code actions there)', () => {
  const review = new Review(PARAMS);
  assert.deepEqual(hunkSpan(PARAMS.hunks[0], 15), [0, 4]);
  assert.deepEqual(hunkSpan(PARAMS.hunks[1], 15), [9, 12]);
  assert.deepEqual(review.hunksAt(1, 1, 15).map((h) => h.id), [0]);
  assert.deepEqual(review.hunksAt(12, 12, 15).map((h) => h.id), [1]);
  assert.deepEqual(review.hunksAt(6, 7, 15), []);
  assert.deepEqual(review.hunksAt(0, 14, 15).map((h) => h.id), [0, 1]);
  assert.equal(review.name(1), 'change 2/2');
});

test('params are checked before use', () => {
  assert.ok(isReviewParams(PARAMS));
  assert.ok(!isReviewParams({ path: 'a' }));
  assert.ok(!isReviewParams(null));
});
