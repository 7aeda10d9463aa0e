// Rebuild both sides of a proposed edit from smallcode.diff's unified diffs, for VS Code's diff editor.
// No `vscode` import (unit-tested).

export interface ProposedEdit {
  path: string;
  label: string;
  diff: string;
  /** pending | applied | rejected */
  status: string;
  reason?: string;
}

export class DiffError extends Error {}

interface HunkLine {
  op: ' ' | '-' | '+';
  text: string;
}

interface Hunk {
  oldStart: number;
  oldLength: number;
  newStart: number;
  newLength: number;
  lines: HunkLine[];
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Lines with their line ends (the last may have none). */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function parseHunks(diff: string): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  for (const raw of splitLines(diff)) {
    const line = raw.endsWith('\n') ? raw : raw + '\n';
    const header = HUNK.exec(line);
    if (header) {
      current = {
        oldStart: Number(header[1]),
        oldLength: header[2] === undefined ? 1 : Number(header[2]),
        newStart: Number(header[3]),
        newLength: header[4] === undefined ? 1 : Number(header[4]),
        lines: [],
      };
      hunks.push(current);
    } else if (current && line.startsWith('\\')) {
      // "\ No newline at end of file": the line before it has no line end
      const last = current.lines[current.lines.length - 1];
      if (last) last.text = last.text.replace(/\n$/, '');
    } else if (current && (line[0] === ' ' || line[0] === '-' || line[0] === '+')) {
      current.lines.push({ op: line[0] as HunkLine['op'], text: line.slice(1) });
    }
  }
  return hunks;
}

/** Apply a unified diff to `text` (or undo it, `reverse`), checking every context and removed line. */
export function applyDiff(text: string, diff: string, reverse = false): string {
  const source = splitLines(text);
  const out: string[] = [];
  let at = 0;
  for (const hunk of parseHunks(diff)) {
    const lines = hunk.lines.map((l) => ({
      op: reverse && l.op !== ' ' ? (l.op === '+' ? '-' : '+') : l.op,
      text: l.text,
    }));
    const oldCount = lines.filter((l) => l.op !== '+').length;
    // the hunk's start on the side being read: the diff's old side, or its new side when undoing
    const [first, length] = reverse ? [hunk.newStart, hunk.newLength] : [hunk.oldStart, hunk.oldLength];
    const start = length === 0 ? first : first - 1;
    if (start < at || start + oldCount > source.length) {
      throw new DiffError(`the change no longer fits the file (hunk at line ${start + 1})`);
    }
    out.push(...source.slice(at, start));
    at = start;
    for (const line of lines) {
      if (line.op === '+') {
        out.push(line.text);
        continue;
      }
      if (source[at] !== line.text) {
        throw new DiffError(`the file changed since the edit (line ${at + 1} differs)`);
      }
      if (line.op === ' ') out.push(line.text);
      at += 1;
    }
  }
  out.push(...source.slice(at));
  return out.join('');
}

export interface Sides {
  before: string;
  after: string;
}

/**
 * Both sides of edit `index` among one file's edits (in the order proposed), from that file's current text:
 * applied edits are in it, pending and rejected ones are not.
 */
export function sidesOf(current: string, edits: ProposedEdit[], index: number): Sides {
  let text = current;
  for (let i = edits.length - 1; i > index; i--) {
    if (edits[i].status === 'applied') text = applyDiff(text, edits[i].diff, true);
  }
  const edit = edits[index];
  if (edit.status === 'applied') return { before: applyDiff(text, edit.diff, true), after: text };
  return { before: text, after: applyDiff(text, edit.diff) };
}

/** True for an edit that creates its file. */
export function createsFile(edit: ProposedEdit): boolean {
  return /^--- \/dev\/null$/m.test(edit.diff);
}
