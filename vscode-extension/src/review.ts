// Per-hunk review of one proposed file change (the server's `smallcode/review` request): which hunks the user
// accepts, where each hunk sits on the proposed side, what the lenses say, and the answer sent back.
// No `vscode` import (unit-tested).

export interface ReviewHunk {
  id: number;
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** " context", "-removed", "+added" (no line ends). */
  lines: string[];
}

/** `smallcode/review`'s params (docs/EDITORS.md, "Per-hunk review"). */
export interface ReviewParams {
  runId: string;
  path: string;
  uri: string;
  label: string;
  created: boolean;
  oldText: string;
  newText: string;
  diff: string;
  hunks: ReviewHunk[];
}

/** The client's answer: every hunk not in `accepted` is rejected. */
export interface ReviewAnswer {
  accepted: number[];
  feedback?: string;
  stop: boolean;
}

export function isReviewParams(value: unknown): value is ReviewParams {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.path === 'string' && typeof v.newText === 'string' && Array.isArray(v.hunks);
}

/** The 0-based line on the proposed side where a hunk's first change is (a deletion: the line after it). */
export function hunkLine(hunk: ReviewHunk, newLineCount: number): number {
  let line = hunk.newLines === 0 ? hunk.newStart : hunk.newStart - 1;
  for (const text of hunk.lines) {
    if (text.startsWith('+') || text.startsWith('-')) break;
    line += 1;
  }
  return Math.max(0, Math.min(line, Math.max(0, newLineCount - 1)));
}

/** Lines the hunk adds on the proposed side, as 0-based [first, last] (undefined for a pure deletion). */
export function addedLines(hunk: ReviewHunk): [number, number] | undefined {
  let line = hunk.newStart - 1;
  let first: number | undefined;
  let last: number | undefined;
  for (const text of hunk.lines) {
    if (text.startsWith('-')) continue;
    if (text.startsWith('+')) {
      first ??= line;
      last = line;
    }
    line += 1;
  }
  return first === undefined || last === undefined ? undefined : [first, last];
}

/** The lines a hunk spans on the proposed side, 0-based [first, last] (its context included). */
export function hunkSpan(hunk: ReviewHunk, newLineCount: number): [number, number] {
  const first = hunkLine(hunk, newLineCount);
  const last = Math.max(first, hunk.newStart - 1 + hunk.newLines - 1);
  return [Math.max(0, hunk.newStart - 1), Math.min(last, Math.max(0, newLineCount - 1))];
}

/** One file's review: the hunks with the user's decisions (all accepted to begin with). */
export class Review {
  private readonly decisions = new Map<number, boolean>();
  /** What the user said about the change as a whole (Reject with Feedback… rejects all of it). */
  feedback = '';
  /** Why the user rejected particular hunks; kept only while the hunk stays rejected. */
  private readonly hunkFeedback = new Map<number, string>();

  constructor(readonly params: ReviewParams) {
    for (const hunk of params.hunks) this.decisions.set(hunk.id, true);
  }

  get hunks(): ReviewHunk[] {
    return this.params.hunks;
  }

  isAccepted(id: number): boolean {
    return this.decisions.get(id) === true;
  }

  set(id: number, accepted: boolean): void {
    if (!this.decisions.has(id)) return;
    this.decisions.set(id, accepted);
    if (accepted) this.hunkFeedback.delete(id);
  }

  /** Reject one hunk and say why: the model reads it with the rejected lines, the accepted hunks still land. */
  rejectWithFeedback(id: number, text: string): void {
    if (!this.decisions.has(id)) return;
    this.set(id, false);
    if (text.trim()) this.hunkFeedback.set(id, text.trim());
    else this.hunkFeedback.delete(id);
  }

  feedbackFor(id: number): string | undefined {
    return this.hunkFeedback.get(id);
  }

  toggle(id: number): void {
    this.set(id, !this.isAccepted(id));
  }

  setAll(accepted: boolean): void {
    for (const id of this.decisions.keys()) this.set(id, accepted);
  }

  get acceptedIds(): number[] {
    return this.hunks.filter((h) => this.isAccepted(h.id)).map((h) => h.id);
  }

  /** "1 of 2 changes accepted". */
  summary(): string {
    const total = this.hunks.length;
    const accepted = this.acceptedIds.length;
    return `${accepted} of ${total} change${total === 1 ? '' : 's'} accepted`;
  }

  /** The hunks whose lines on the proposed side meet lines [start, end] (0-based). */
  hunksAt(start: number, end: number, newLineCount: number): ReviewHunk[] {
    return this.hunks.filter((h) => {
      const [first, last] = hunkSpan(h, newLineCount);
      return first <= end && start <= last;
    });
  }

  /** "change 2/3". */
  name(id: number): string {
    return `change ${this.hunks.findIndex((h) => h.id === id) + 1}/${this.hunks.length}`;
  }

  /** The lenses above a hunk: its state (clicking toggles it), then the other choice. */
  lensTitles(id: number): { state: string; action: string } {
    return this.isAccepted(id)
      ? { state: `✓ Accepted (${this.name(id)})`, action: '✗ Reject' }
      : { state: `✗ Rejected (${this.name(id)})`, action: '✓ Accept' };
  }

  /** The answer to the request (`stop`: the run ends after this edit). */
  answer(stop = false): ReviewAnswer {
    const answer: ReviewAnswer = { accepted: this.acceptedIds, stop };
    const perHunk = this.hunks
      .filter((h) => !this.isAccepted(h.id) && this.hunkFeedback.has(h.id))
      .map((h) => `${this.name(h.id)}: ${this.hunkFeedback.get(h.id)}`);
    const feedback = [this.feedback.trim(), ...perHunk].filter(Boolean).join('\n');
    if (feedback) answer.feedback = feedback;
    return answer;
  }

  /** The answer when the user closes the diff without finishing: everything rejected. */
  static dismissed(): ReviewAnswer {
    return { accepted: [], stop: false };
  }
}
