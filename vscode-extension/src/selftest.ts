// End-to-end self-test, run only when SMALLCODE_VSCODE_SELFTEST names a result file (tests/editors/
// test_vscode_e2e.py sets it): drives the real commands in a real VS Code as a user would and writes what it saw.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient/node';
import { ChatView } from './chatView';
import { Commands } from './commands';
import { ReviewController } from './reviewEditor';
import { SmallCodeServer } from './server';
import { Panel } from './views';

// generous: on a loaded machine the server alone may take a minute to start
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 120000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function selfTest(
  resultPath: string,
  server: SmallCodeServer,
  commands: Commands,
  panel: Panel,
  context: vscode.ExtensionContext,
  reviews: ReviewController,
  chat: ChatView,
): Promise<void> {
  const result: Record<string, unknown> = { steps: [] as string[] };
  const step = (name: string) => (result.steps as string[]).push(name);
  try {
    await until('the server', () => server.client?.state === State.Running);
    step('server running');
    const only = process.env.SMALLCODE_SELFTEST_INLINE
      ? () => inlineCompletion(result, step, resultPath)
      : process.env.SMALLCODE_SELFTEST_REVIEW_PROMPT
        ? () => hunkReview(result, step, reviews, chat, resultPath)
        : process.env.SMALLCODE_SELFTEST_CHAT
          ? () => chatView(result, step, chat, resultPath)
          : undefined;
    if (only) {
      await only();
      result.ok = true;
      fs.writeFileSync(resultPath, JSON.stringify(result, null, 2));
      return;
    }
    // the plain apiKey setting was moved to secret storage before the server started
    const inspected = vscode.workspace.getConfiguration('smallcode').inspect<string>('apiKey');
    result.apiKeySettingAfterStart = inspected?.globalValue ?? inspected?.workspaceValue ?? null;
    result.apiKeySecret = (await context.secrets.get('smallcode.apiKey')) ?? null;
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const target = vscode.Uri.joinPath(folder, process.env.SMALLCODE_SELFTEST_FILE ?? 'calc.py');
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
    editor.selection = new vscode.Selection(0, 0, editor.document.lineCount - 1, 0);

    // "SmallCode: Ask…" with the selection (the prompt given as the input box would return it)
    const reply = await vscode.commands.executeCommand<{ text: string; data: Record<string, unknown> }>(
      'smallcode.askInput',
      { prompt: process.env.SMALLCODE_SELFTEST_PROMPT ?? 'fix the bug' },
    );
    result.askText = reply?.text;
    result.editorText = editor.document.getText();
    // saved by the extension when the server asked (smallcode/saveDocuments): the agent's shell saw it
    result.dirtyAfterAsk = editor.document.isDirty;
    result.diskAfterAsk = new TextDecoder().decode(await vscode.workspace.fs.readFile(target));
    result.askNotice = commands.lastNotice;
    result.askProgress = JSON.parse(JSON.stringify(server.progress.shown));
    result.transcript = server.transcript.written;
    // "Open Answer" on the notification: the whole answer as a document
    await vscode.commands.executeCommand('smallcode.showAnswer');
    const answerEditor = await until('the answer document', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.scheme === 'smallcode-answer' ? active : undefined;
    });
    result.answerDocument = answerEditor.document.getText();
    result.answerLanguage = answerEditor.document.languageId;
    step('asked');

    // "SmallCode: Set API Key" (the key given as the password box would return it): the server gets it live
    if (process.env.SMALLCODE_SELFTEST_API_KEY) {
      await vscode.commands.executeCommand('smallcode.setApiKey', process.env.SMALLCODE_SELFTEST_API_KEY);
      result.apiKeySecretAfterSet = (await context.secrets.get('smallcode.apiKey')) ?? null;
      step('api key set');
    }

    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', target);
    result.lenses = (lenses ?? []).map((l) => l.command?.title ?? '');
    const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider', target, new vscode.Range(0, 0, 1, 0));
    result.codeActions = (actions ?? []).map((a) => a.title);

    await vscode.commands.executeCommand('smallcode.palette.budget');
    result.budgetHtml = panel.lastHtml;
    await vscode.window.showTextDocument(editor.document, editor.viewColumn); // back to the code, panel beside
    result.status = server.statusSnapshot();
    step('budget');

    // "SmallCode: Model": the quick pick lists the server's models; the user picks the last one
    if (process.env.SMALLCODE_SELFTEST_SWITCH_MODEL) {
      const switching = vscode.commands.executeCommand('smallcode.palette.model');
      await until('the model switch', async () => {
        // the pick may show between the two: "last" then a no-op and "accept" would take the first row
        await vscode.commands.executeCommand('quickInput.last');
        await sleep(300);
        await vscode.commands.executeCommand('quickInput.last');
        await vscode.commands.executeCommand('quickInput.accept');
        await sleep(300);
        return commands.last.get('model')?.text.startsWith('model switched') || undefined;
      });
      await switching;
      result.modelReply = commands.last.get('model')?.text;
      result.statusAfterSwitch = server.statusSnapshot();
      step('model switched');
    }

    // preview mode (a live settings change): the edit waits in VS Code's refactor preview; the diff editor
    // shows it before it is accepted
    if (process.env.SMALLCODE_SELFTEST_PREVIEW_PROMPT) {
      await vscode.workspace.getConfiguration('smallcode').update('applyMode', 'preview', vscode.ConfigurationTarget.Global);
      await until('the setting', () => server.options().applyMode === 'preview');
      await server.pushSettings();
      const second = vscode.commands.executeCommand('smallcode.askInput', { prompt: process.env.SMALLCODE_SELFTEST_PREVIEW_PROMPT });
      await until('the review', () => reviews.pending[0]);
      result.textWhilePending = editor.document.getText();
      const tab = await until('the diff editor', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff ? input : undefined;
      });
      result.diffTab = { original: tab.original.toString(), modified: tab.modified.toString() };
      result.diffAfter = (await vscode.workspace.openTextDocument(tab.modified)).getText();
      step('diff shown while pending');
      // the user closes the diff without finishing the review: the whole change is rejected
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await until('the review to be answered', () => reviews.answered.length > 0);
      result.closedAnswer = reviews.answered[reviews.answered.length - 1].answer;
      result.previewReply = ((await second) as { text?: string } | undefined)?.text;
      result.textAfterPreview = editor.document.getText();
      result.diskAfterPreview = new TextDecoder().decode(await vscode.workspace.fs.readFile(target));
      result.statusAfterPreview = server.statusSnapshot();
      step('preview discarded');
    }

    // a run the user cancels with the progress notification's Cancel button (the test clicks it in the page)
    if (process.env.SMALLCODE_SELFTEST_CANCEL_PROMPT) {
      await vscode.window.showTextDocument(editor.document, editor.viewColumn); // the code, not the diff
      const before = server.progress.shown.length;
      const running = vscode.commands.executeCommand<{ ok?: boolean; text?: string; error?: string }>('smallcode.askInput', {
        prompt: process.env.SMALLCODE_SELFTEST_CANCEL_PROMPT,
      });
      const shown = await until('the progress notification', () => server.progress.shown[before]);
      fs.writeFileSync(`${resultPath}.cancel-ready`, JSON.stringify(shown));
      step('waiting for Cancel');
      const reply = await running;
      result.cancelReply = reply;
      result.cancelProgress = JSON.parse(JSON.stringify(shown));
      result.cancelNotice = commands.lastNotice;
      result.statusAfterCancel = server.statusSnapshot();
      step('cancelled');
    }
    result.ok = true;
  } catch (error) {
    result.ok = false;
    result.error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  }
  fs.writeFileSync(resultPath, JSON.stringify(result, null, 2));
}

/** Let the screenshot be taken (SMALLCODE_SELFTEST_HOLD: the test writes `<result>.go` when done). */
async function hold(resultPath: string, name: string): Promise<void> {
  if (process.env.SMALLCODE_SELFTEST_HOLD !== name) return;
  fs.writeFileSync(`${resultPath}.hold`, name);
  await until('the screenshot', () => fs.existsSync(`${resultPath}.go`), 600000);
}

const readFile = async (uri: vscode.Uri) => new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));

// Per-hunk review: an ask in preview mode proposes a change of two hunks; the user rejects one with its lens
// (SMALLCODE_SELFTEST_REJECT_HUNK, 0-based), accepts the other and finishes with the editor title's button.
async function hunkReview(
  result: Record<string, unknown>,
  step: (name: string) => void,
  reviews: ReviewController,
  chat: ChatView,
  resultPath: string,
): Promise<void> {
  const folder = vscode.workspace.workspaceFolders![0].uri;
  const target = vscode.Uri.joinPath(folder, process.env.SMALLCODE_SELFTEST_FILE ?? 'calc.py');
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
  const asked = vscode.commands.executeCommand<{ text: string }>('smallcode.askInput', {
    prompt: process.env.SMALLCODE_SELFTEST_REVIEW_PROMPT,
  });
  const pending = await until('the review', () => reviews.pending[0]);
  result.reviewPath = pending.path;
  result.reviewHunks = pending.review.hunks.length;
  const tab = await until('the review diff', () => {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    return input instanceof vscode.TabInputTextDiff ? input : undefined;
  });
  result.reviewTab = { original: tab.original.toString(), modified: tab.modified.toString() };
  result.reviewProposed = (await vscode.workspace.openTextDocument(tab.modified)).getText();
  result.reviewCurrent = (await vscode.workspace.openTextDocument(tab.original)).getText();
  step('review shown');
  const lenses = async () =>
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', tab.modified)) ?? [];
  const before = await lenses();
  result.lensesBefore = before.map((l) => `${l.range.start.line}: ${l.command?.title}`);
  // the user clicks "✗ Reject" above one hunk
  const rejects = before.filter((l) => l.command?.command === 'smallcode.review.reject');
  const index = Number(process.env.SMALLCODE_SELFTEST_REJECT_HUNK ?? '1');
  const reject = rejects[index].command!;
  await vscode.commands.executeCommand(reject.command, ...(reject.arguments ?? []));
  result.lensesAfter = (await lenses()).map((l) => `${l.range.start.line}: ${l.command?.title}`);
  // the light bulb on the rejected hunk's line (lenses are off in diff editors by default)
  const line = Number(before.filter((l) => l.command?.command === 'smallcode.review.reject')[index].range.start.line);
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    'vscode.executeCodeActionProvider', tab.modified, new vscode.Range(line, 0, line, 0));
  result.codeActionsAfter = (actions ?? []).filter((a) => a.command?.command.startsWith('smallcode.review.')).map((a) => a.title);
  // the light bulb's "Reject … with feedback…" on that hunk (the input box's text given): the review stays open
  const hunkFeedback = process.env.SMALLCODE_SELFTEST_HUNK_FEEDBACK;
  if (hunkFeedback) {
    const why = (actions ?? []).find((a) => a.command?.command === 'smallcode.review.rejectHunkWithFeedback');
    if (!why?.command) throw new Error('no "reject with feedback" code action on the rejected hunk');
    await vscode.commands.executeCommand(why.command.command, ...(why.command.arguments ?? []), hunkFeedback);
    const again = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider', tab.modified, new vscode.Range(line, 0, line, 0));
    result.codeActionsAfterFeedback = (again ?? []).filter((a) => a.command?.command.startsWith('smallcode.review.')).map((a) => a.title);
  }
  // nothing reached the buffer or the disk while the review waits
  result.textWhilePending = editor.document.getText();
  result.diskWhilePending = await readFile(target);
  await hold(resultPath, 'review');
  // "Finish Review" in the diff editor's title
  await vscode.commands.executeCommand('smallcode.review.finish');
  result.reviewAnswers = reviews.answered.slice();
  const reply = await asked;
  result.reviewReply = reply?.text;
  result.textAfterReview = editor.document.getText();
  result.dirtyAfterReview = editor.document.isDirty;
  // preview mode never saves: the user does
  await editor.document.save();
  result.diskAfterSave = await readFile(target);
  result.chatHtml = chat.html;
  step('reviewed');
  // a second ask: its first change rejected with feedback (the input box's text given), the next one
  // rejected with the title's Reject All, then "Finish Review and Stop the Run"
  const feedback = process.env.SMALLCODE_SELFTEST_REVIEW_FEEDBACK;
  if (!feedback) return;
  const again = vscode.commands.executeCommand<{ ok?: boolean; data?: Record<string, unknown> }>('smallcode.askInput', {
    prompt: process.env.SMALLCODE_SELFTEST_REVIEW_PROMPT,
  });
  await until('the second review', () => reviews.pending[0]);
  await vscode.commands.executeCommand('smallcode.review.rejectWithFeedback', feedback);
  await until('the third review', () => reviews.answered.length === 2 && reviews.pending[0]);
  await vscode.commands.executeCommand('smallcode.review.rejectAll');
  await vscode.commands.executeCommand('smallcode.review.stop');
  const stopped = await again;
  result.laterAnswers = reviews.answered.slice(1);
  result.stoppedCancelled = stopped?.data?.cancelled ?? null;
  result.textAfterStop = editor.document.getText();
  result.reviewsLeft = reviews.pending.length;
  step('rejected with feedback, stopped');
  // a third ask cancelled (SmallCode: Cancel the Running Task) while its review waits: the diff closes
  const third = vscode.commands.executeCommand<{ ok?: boolean; data?: Record<string, unknown> }>('smallcode.askInput', {
    prompt: process.env.SMALLCODE_SELFTEST_REVIEW_PROMPT,
  });
  let thirdDone: unknown;
  void third.then((r) => (thirdDone = r ?? 'no answer'));
  await until('the third ask\'s review', () => reviews.pending[0] ?? (thirdDone ? true : undefined));
  if (thirdDone) throw new Error(`the third ask ended without a review: ${JSON.stringify(thirdDone)}`);
  await vscode.commands.executeCommand('smallcode.cancelRun');
  const cancelled = await third;
  result.cancelledDuringReview = cancelled?.data?.cancelled ?? null;
  await until('the stale review to close', () => reviews.pending.length === 0, 10000);
  const diffTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff);
  await until('the diff tabs to close', () => diffTabs().length === 0, 10000).catch(() => undefined);
  result.reviewTabsAfterCancel = diffTabs().map((t) => t.label);
  result.textAfterCancel = editor.document.getText();
  step('cancelled during review');
}

// The chat view: a message sent through the view streams the model's text and the tool steps into it; the
// follow-up continues the conversation.
async function chatView(
  result: Record<string, unknown>,
  step: (name: string) => void,
  chat: ChatView,
  resultPath: string,
): Promise<void> {
  const folder = vscode.workspace.workspaceFolders![0].uri;
  const target = vscode.Uri.joinPath(folder, process.env.SMALLCODE_SELFTEST_FILE ?? 'calc.py');
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
  await chat.reveal();
  await until('the chat view', () => chat.resolved);
  step('chat view shown');
  // what the view showed while the first run was still going: its streamed text and its steps
  const seen: string[] = [];
  let watching = true;
  const watch = (async () => {
    while (watching) {
      if (chat.conversation.running && seen[seen.length - 1] !== chat.html) seen.push(chat.html);
      await sleep(20);
    }
  })();
  // SMALLCODE_SELFTEST_CHAT_UI: the test types the messages into the view (cdp_webview.mjs); else they are
  // sent as the view's Send does
  const typed = process.env.SMALLCODE_SELFTEST_CHAT_UI === '1';
  const ended = (n: number) => () => chat.conversation.turns.length >= n && !chat.conversation.running;
  if (typed) fs.writeFileSync(`${resultPath}.chat-ready`, '');
  if (typed) await until('the first message, typed into the view, to be answered', ended(1));
  else await chat.send(process.env.SMALLCODE_SELFTEST_CHAT!);
  watching = false;
  await watch;
  result.chatWhileRunning = seen;
  result.chatHtmlFirst = chat.html;
  step('first message');
  if (process.env.SMALLCODE_SELFTEST_CHAT_FOLLOWUP) {
    if (typed) await until('the follow-up, typed into the view, to be answered', ended(2));
    else await chat.send(process.env.SMALLCODE_SELFTEST_CHAT_FOLLOWUP);
    result.chatHtml = chat.html;
    step('follow-up');
  }
  if (typed) {
    // the user switches to the Explorer and back: the view is drawn afresh with the whole conversation
    await vscode.commands.executeCommand('workbench.view.explorer');
    await sleep(500);
    await chat.reveal();
    step('view shown again');
  }
  await hold(resultPath, 'chat');
}

// Ghost text: the user types a letter at SMALLCODE_SELFTEST_INLINE ("line:column") of the file; VS Code asks the
// server's inline completion (the client's proposed feature) and shows it; Tab (inlineSuggest.commit) takes it.
async function inlineCompletion(
  result: Record<string, unknown>,
  step: (name: string) => void,
  resultPath: string,
): Promise<void> {
  const folder = vscode.workspace.workspaceFolders![0].uri;
  const target = vscode.Uri.joinPath(folder, process.env.SMALLCODE_SELFTEST_FILE ?? 'calc.py');
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
  const [line, column] = (process.env.SMALLCODE_SELFTEST_INLINE ?? '0:0').split(':').map(Number);
  editor.selection = new vscode.Selection(line, column, line, column);
  await vscode.commands.executeCommand('type', { text: process.env.SMALLCODE_SELFTEST_TYPE ?? '' });
  result.typedText = editor.document.getText();
  if (process.env.SMALLCODE_SELFTEST_SUGGEST) {
    // the suggest widget open (as typing opens it when a word in the file starts so): the inline completion
    // request then carries its selected item
    await vscode.commands.executeCommand('editor.action.triggerSuggest');
    await sleep(1000);
  }
  if (process.env.SMALLCODE_SELFTEST_HOLD === 'ghost') {
    // the picture: the ghost text stays shown (not taken in) while it is taken
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await hold(resultPath, 'ghost');
  }
  const expected = process.env.SMALLCODE_SELFTEST_EXPECT ?? '';
  await until('the ghost text, taken in with Tab', async () => {
    await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
    if (editor.document.getText().includes(expected)) return true;
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'); // what Alt+\ does by hand
    await sleep(500);
    return undefined;
  }, 120000);
  result.inlineText = editor.document.getText();
  step('ghost text accepted');
}
