// Per-hunk review in VS Code's diff editor: the server's `smallcode/review` request opens the current text
// against the proposed one (virtual documents). Each hunk shows its decision at the end of its first changed
// line and is accepted or rejected with a lens above it (when `diffEditor.codeLens` is on, which VS Code's
// default is not: the first review offers to turn it on) or a code action (the light bulb, Ctrl+.) on its
// lines, which can also reject it with feedback for the model; the editor title's buttons accept or reject
// all, reject all with feedback, stop the run or finish. The request is answered on finish; closing the diff
// without finishing rejects everything.
import * as vscode from 'vscode';
import { ClientCapabilities, FeatureState, StaticFeature } from 'vscode-languageclient/node';
import { addedLines, hunkLine, Review, ReviewAnswer, ReviewParams } from './review';

const LENS_OFFERED = 'smallcode.review.lensOffered';
import { DIFF_SCHEME, DiffDocuments } from './views';

export const REVIEW_REQUEST = 'smallcode/review';

/** Announces `experimental.smallcode.review`: the server sends `smallcode/review` instead of a confirmed edit. */
export class ReviewCapability implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ??= {}) as Record<string, unknown>;
    const smallcode = (experimental.smallcode ??= {}) as Record<string, unknown>;
    smallcode.review = true;
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

interface Session {
  review: Review;
  before: vscode.Uri;
  proposed: vscode.Uri;
  finish: (answer: ReviewAnswer) => void;
}

export class ReviewController implements vscode.CodeLensProvider, vscode.CodeActionProvider, vscode.Disposable {
  private readonly sessions: Session[] = [];
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly status = vscode.window.createStatusBarItem('smallcode.review', vscode.StatusBarAlignment.Left, 100);
  private readonly rejected = vscode.window.createTextEditorDecorationType({
    textDecoration: 'line-through',
    opacity: '0.55',
    isWholeLine: true,
  });
  /** Each hunk's decision after its first changed line (seen without lenses too). */
  private readonly acceptedMark = vscode.window.createTextEditorDecorationType({
    after: { contentText: '  ✓ accepted', color: new vscode.ThemeColor('gitDecoration.addedResourceForeground'), margin: '0 0 0 2em' },
  });
  private readonly rejectedMark = vscode.window.createTextEditorDecorationType({
    after: { contentText: '  ✗ rejected', color: new vscode.ThemeColor('gitDecoration.deletedResourceForeground'), margin: '0 0 0 2em' },
  });
  private readonly disposables: vscode.Disposable[] = [this.lensesChanged, this.status, this.rejected, this.acceptedMark, this.rejectedMark];
  private state: vscode.Memento | undefined;
  /** Every review's file and answer, in order (the self-test reads them). */
  readonly answered: { path: string; answer: ReviewAnswer }[] = [];

  constructor(private readonly docs: DiffDocuments) {
    this.status.name = 'SmallCode Review';
  }

  register(context: vscode.ExtensionContext): void {
    const add = (id: string, fn: (...args: any[]) => unknown) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    add('smallcode.review.accept', (uri?: string, id?: number) => this.decide(uri, id, true));
    add('smallcode.review.reject', (uri?: string, id?: number) => this.decide(uri, id, false));
    add('smallcode.review.toggle', (uri?: string, id?: number) => this.decide(uri, id, undefined));
    add('smallcode.review.acceptAll', () => this.all(true));
    add('smallcode.review.rejectAll', () => this.all(false));
    add('smallcode.review.rejectWithFeedback', (feedback?: string) => this.rejectWithFeedback(feedback));
    add('smallcode.review.rejectHunkWithFeedback', (uri?: string, id?: number, feedback?: string) =>
      this.rejectHunkWithFeedback(uri, id, feedback),
    );
    add('smallcode.review.stop', () => this.submit(this.current(), true));
    add('smallcode.review.finish', () => this.submit(this.current(), false));
    this.disposables.push(
      vscode.languages.registerCodeLensProvider({ scheme: DIFF_SCHEME }, this),
      vscode.languages.registerCodeActionsProvider({ scheme: DIFF_SCHEME }, this, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
      // closing the diff without finishing rejects the whole change
      vscode.window.tabGroups.onDidChangeTabs((event) => {
        for (const tab of event.closed) {
          const input = tab.input;
          if (!(input instanceof vscode.TabInputTextDiff)) continue;
          const session = this.sessions.find((s) => s.proposed.toString() === input.modified.toString());
          if (session) this.close(session, Review.dismissed());
        }
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
    );
    this.state = context.globalState;
    context.subscriptions.push(this);
  }

  /** Reviews waiting for the user, oldest first (the self-test reads them). */
  get pending(): { path: string; proposed: vscode.Uri; review: Review }[] {
    return this.sessions.map((s) => ({ path: s.review.params.path, proposed: s.proposed, review: s.review }));
  }

  /**
   * A run ended: a review still open belongs to it (one run at a time per workspace), and the server waits
   * for it no more (the run was cancelled, or the review timed out): close it.
   */
  closeStale(): void {
    for (const session of [...this.sessions]) this.close(session, Review.dismissed());
  }

  /** The `smallcode/review` request: open the diff and wait for the user's answer. */
  async handle(params: ReviewParams, token?: vscode.CancellationToken): Promise<ReviewAnswer> {
    const review = new Review(params);
    const before = this.docs.put('current', params.path, params.oldText);
    const proposed = this.docs.put('proposed', params.path, params.newText);
    const answer = new Promise<ReviewAnswer>((resolve) => {
      this.sessions.push({ review, before, proposed, finish: resolve });
    });
    // the run was cancelled (or the server gave up): nothing to answer any more
    const cancelled = token?.onCancellationRequested(() => {
      const session = this.sessions.find((s) => s.proposed === proposed);
      if (session) this.close(session, Review.dismissed());
    });
    this.changed();
    const title = `${params.path}: review SmallCode's change${params.created ? ' (new file)' : ''}`;
    // not a preview tab: another preview opening must not close (and so reject) the review
    await vscode.commands.executeCommand('vscode.diff', before, proposed, title, { preview: false });
    // answered (or cancelled) while the diff was opening: close it now
    if (!this.sessions.some((s) => s.proposed === proposed)) this.closeTabs(proposed);
    else void this.offerLenses();
    try {
      return await answer;
    } finally {
      cancelled?.dispose();
    }
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const session = this.sessions.find((s) => s.proposed.toString() === document.uri.toString());
    if (!session) return [];
    const uri = session.proposed.toString();
    return session.review.hunks.flatMap((hunk) => {
      const line = hunkLine(hunk, document.lineCount);
      const range = new vscode.Range(line, 0, line, 0);
      const { state, action } = session.review.lensTitles(hunk.id);
      const accepted = session.review.isAccepted(hunk.id);
      return [
        new vscode.CodeLens(range, { title: state, command: 'smallcode.review.toggle', arguments: [uri, hunk.id] }),
        new vscode.CodeLens(range, {
          title: action,
          command: accepted ? 'smallcode.review.reject' : 'smallcode.review.accept',
          arguments: [uri, hunk.id],
        }),
      ];
    });
  }

  /** Code actions on a hunk's lines of the proposed side: accept or reject it, finish. */
  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const session = this.sessions.find((s) => s.proposed.toString() === document.uri.toString());
    if (!session) return [];
    const uri = session.proposed.toString();
    const actions = session.review.hunksAt(range.start.line, range.end.line, document.lineCount).flatMap((hunk) => {
      const accepted = session.review.isAccepted(hunk.id);
      const name = session.review.name(hunk.id);
      const action = new vscode.CodeAction(accepted ? `✗ Reject ${name}` : `✓ Accept ${name}`, vscode.CodeActionKind.QuickFix);
      action.command = {
        title: action.title,
        command: accepted ? 'smallcode.review.reject' : 'smallcode.review.accept',
        arguments: [uri, hunk.id],
      };
      const title = session.review.feedbackFor(hunk.id)
        ? `✎ Change your feedback on ${name}…`
        : `✗ Reject ${name} with feedback…`;
      const why = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
      why.command = { title: why.title, command: 'smallcode.review.rejectHunkWithFeedback', arguments: [uri, hunk.id] };
      return [action, why];
    });
    const finish = new vscode.CodeAction(`Finish the review (${session.review.summary()})`, vscode.CodeActionKind.QuickFix);
    finish.command = { title: finish.title, command: 'smallcode.review.finish' };
    return [...actions, finish];
  }

  /** VS Code shows no lenses in diff editors by default: offer once to turn them on. */
  private async offerLenses(): Promise<void> {
    const config = vscode.workspace.getConfiguration('diffEditor');
    if (config.get<boolean>('codeLens') || !this.state || this.state.get(LENS_OFFERED)) return;
    await this.state.update(LENS_OFFERED, true);
    const choice = await vscode.window.showInformationMessage(
      'SmallCode: show "✓ Accept / ✗ Reject" above each change in the diff editor? (turns on diffEditor.codeLens; ' +
        'without it, use the light bulb on a change)',
      'Turn On',
      'Not Now',
    );
    if (choice === 'Turn On') await config.update('codeLens', true, vscode.ConfigurationTarget.Global);
  }

  /** The review a title button or palette command acts on: the active diff's, else the oldest waiting. */
  private current(): Session | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const active = input instanceof vscode.TabInputTextDiff ? input.modified.toString() : undefined;
    return this.sessions.find((s) => s.proposed.toString() === active) ?? this.sessions[0];
  }

  private decide(uri: string | undefined, id: number | undefined, accepted: boolean | undefined): void {
    const session = uri ? this.sessions.find((s) => s.proposed.toString() === uri) : this.current();
    if (!session || id === undefined) return;
    if (accepted === undefined) session.review.toggle(id);
    else session.review.set(id, accepted);
    this.changed();
  }

  private all(accepted: boolean): void {
    const session = this.current();
    if (!session) return;
    session.review.setAll(accepted);
    this.changed();
  }

  private async rejectWithFeedback(given?: string): Promise<void> {
    const session = this.current();
    if (!session) return;
    const feedback =
      typeof given === 'string'
        ? given
        : await vscode.window.showInputBox({
            title: `SmallCode: reject the change to ${session.review.params.path}`,
            prompt: 'What should the model do instead? (it reads this)',
          });
    if (feedback === undefined) return; // Escape: back to the review
    session.review.setAll(false);
    session.review.feedback = feedback;
    this.submit(session, false);
  }

  /**
   * Reject one hunk and tell the model why (the light bulb on its lines, or the palette with the cursor in it);
   * the review stays open, so the other hunks can still be accepted. Escape leaves the hunk as it was.
   */
  private async rejectHunkWithFeedback(uri?: string, id?: number, given?: string): Promise<void> {
    const session = uri ? this.sessions.find((s) => s.proposed.toString() === uri) : this.current();
    if (!session) return;
    let hunkId = id;
    if (hunkId === undefined) {
      const editor = vscode.window.activeTextEditor;
      const onProposed = editor && editor.document.uri.toString() === session.proposed.toString();
      const line = onProposed ? editor.selection.active.line : -1;
      hunkId = session.review.hunksAt(line, line, editor?.document.lineCount ?? 0)[0]?.id;
    }
    if (hunkId === undefined) {
      void vscode.window.showInformationMessage(
        'SmallCode: put the cursor in a change on the proposed side (right) to reject it with feedback',
      );
      return;
    }
    const name = session.review.name(hunkId);
    const feedback =
      typeof given === 'string'
        ? given
        : await vscode.window.showInputBox({
            title: `SmallCode: reject ${name} of ${session.review.params.path}`,
            prompt: 'Why? The model reads this with the rejected lines; the other changes stay as you decide.',
            value: session.review.feedbackFor(hunkId) ?? '',
          });
    if (feedback === undefined) return;
    session.review.rejectWithFeedback(hunkId, feedback);
    this.changed();
  }

  private submit(session: Session | undefined, stop: boolean): void {
    if (!session) {
      void vscode.window.showInformationMessage('SmallCode: no change is waiting for review');
      return;
    }
    this.close(session, session.review.answer(stop));
  }

  /** Answer the request and close the diff (the answer is given first: the close is no rejection then). */
  private close(session: Session, answer: ReviewAnswer): void {
    const index = this.sessions.indexOf(session);
    if (index < 0) return;
    this.sessions.splice(index, 1);
    this.answered.push({ path: session.review.params.path, answer });
    session.finish(answer);
    this.changed();
    this.closeTabs(session.proposed);
  }

  private closeTabs(proposed: vscode.Uri): void {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((tab) => {
      const input = tab.input;
      return input instanceof vscode.TabInputTextDiff && input.modified.toString() === proposed.toString();
    });
    if (tabs.length) void vscode.window.tabGroups.close(tabs);
  }

  private changed(): void {
    this.lensesChanged.fire();
    void vscode.commands.executeCommand('setContext', 'smallcode.reviewing', this.sessions.length > 0);
    const session = this.current();
    if (session) {
      const more = this.sessions.length > 1 ? ` (+${this.sessions.length - 1} more)` : '';
      this.status.text = `$(git-compare) SmallCode review: ${session.review.summary()}${more}`;
      this.status.tooltip = `Finish the review of ${session.review.params.path} (closing the diff rejects it)`;
      this.status.command = 'smallcode.review.finish';
      this.status.show();
    } else {
      this.status.hide();
    }
    this.decorate();
  }

  /** Each hunk's decision at its first changed line; rejected hunks' lines struck through. */
  private decorate(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const session = this.sessions.find((s) => s.proposed.toString() === editor.document.uri.toString());
      if (!session) continue;
      const mark = (accepted: boolean): vscode.DecorationOptions[] =>
        session.review.hunks
          .filter((h) => session.review.isAccepted(h.id) === accepted)
          .map((h) => {
            const line = hunkLine(h, editor.document.lineCount);
            const end = editor.document.lineAt(line).range.end;
            const said = session.review.feedbackFor(h.id);
            const text = said && said.length > 60 ? `${said.slice(0, 59)}…` : said;
            return {
              range: new vscode.Range(end, end),
              renderOptions: text ? { after: { contentText: `  ✗ rejected: ${text}` } } : undefined,
            };
          });
      editor.setDecorations(this.acceptedMark, mark(true));
      editor.setDecorations(this.rejectedMark, mark(false));
      const ranges = session.review.hunks
        .filter((h) => !session.review.isAccepted(h.id))
        .map(addedLines)
        .filter((r): r is [number, number] => r !== undefined)
        .map(([first, last]) => new vscode.Range(first, 0, last, 0));
      editor.setDecorations(this.rejected, ranges);
    }
  }

  dispose(): void {
    this.closeStale();
    for (const d of this.disposables) d.dispose();
  }
}
