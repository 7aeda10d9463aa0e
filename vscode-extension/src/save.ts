// smallcode/saveDocuments: after the editor applied an agent edit, the server asks it to save those documents,
// so the agent's tests, linters and shell read the new text from disk. No `vscode` import (unit-tested).

/** A text document as far as saving goes (vscode.TextDocument fits). */
export interface Savable {
  readonly isDirty: boolean;
  save(): Thenable<boolean>;
}

/** The `uris` of a request's params (anything else: none). */
export function requestedUris(params: unknown): string[] {
  const uris = (params as { uris?: unknown } | null | undefined)?.uris;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/**
 * Saves each requested document that `find` knows; answers the uris (as the server sent them) that are on disk
 * now. A document that is not loaded, or whose save fails, is left out: the server then decides whether it may
 * write the file itself.
 */
export async function saveDocuments(
  params: unknown,
  find: (uri: string) => Savable | undefined,
): Promise<{ saved: string[] }> {
  const saved: string[] = [];
  for (const uri of requestedUris(params)) {
    const doc = find(uri);
    if (!doc) continue;
    try {
      if (!doc.isDirty || (await doc.save())) saved.push(uri);
    } catch {
      // a failed save (read-only file, …): not saved
    }
  }
  return { saved };
}
