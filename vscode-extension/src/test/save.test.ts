import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestedUris, saveDocuments, Savable } from '../save';

function doc(isDirty: boolean, outcome: boolean | Error): Savable & { saves: number } {
  const d = {
    isDirty,
    saves: 0,
    save: async () => {
      d.saves += 1;
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
  return d;
}

test('saveDocuments saves dirty documents and answers the uris now on disk', async () => {
  const docs: Record<string, Savable & { saves: number }> = {
    'file:///p/dirty.py': doc(true, true),
    'file:///p/clean.py': doc(false, true),
    'file:///p/refused.py': doc(true, false),
    'file:///p/broken.py': doc(true, new Error('read-only')),
  };
  const uris = [...Object.keys(docs), 'file:///p/not-loaded.py'];
  const answer = await saveDocuments({ uris }, (uri) => docs[uri]);
  assert.deepEqual(answer, { saved: ['file:///p/dirty.py', 'file:///p/clean.py'] });
  assert.equal(docs['file:///p/dirty.py'].saves, 1);
  assert.equal(docs['file:///p/clean.py'].saves, 0); // nothing to save: already on disk
});

test('requestedUris takes only strings from a well-formed request', () => {
  assert.deepEqual(requestedUris({ uris: ['file:///a', 3, null] }), ['file:///a']);
  assert.deepEqual(requestedUris(null), []);
  assert.deepEqual(requestedUris({ uris: 'file:///a' }), []);
});
