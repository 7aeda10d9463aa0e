// The command palette: "SmallCode: Ask…", one entry per slash command, the diff preview, the answer, the API
// key, cancel, restart.
import * as vscode from 'vscode';
import { ProposedEdit } from './diff';
import { answerMarkdown, CommandReply, modelRows, PickRow, sessionRows, traceRows } from './render';
import { AskArgs, SmallCodeServer } from './server';
import { shortNotice } from './transcript';
import { AnswerDocument, DiffDocuments, Panel, showEditDiff } from './views';
import { referencedDiagnostics } from './diagnostics';

/** Slash commands answered in the SmallCode panel (the others get a quick pick or a message). */
const PANEL = new Set(['budget', 'tokens', 'stats', 'trace', 'plan', 'memory', 'profile', 'help']);

/** The active editor when it shows a file the server can take (not a diff's side, an output, the answer). */
function askableEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  return editor && ['file', 'untitled'].includes(editor.document.uri.scheme) ? editor : undefined;
}

export class Commands {
  /** The last answer of each command (the self-test reads them). */
  readonly last = new Map<string, CommandReply>();
  /** The last run's notification (the self-test reads it). */
  lastNotice = '';
  /** Told when an ask starts and ends (the chat view shows every ask; reviews left open are closed). */
  chat: { runStarted(prompt: string): void; runEnded(reply: CommandReply): void } | undefined;

  constructor(
    private readonly server: SmallCodeServer,
    private readonly panel: Panel,
    private readonly docs: DiffDocuments,
    readonly answer: AnswerDocument,
  ) {}

  register(context: vscode.ExtensionContext, slashCommands: string[]): void {
    const add = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    add('smallcode.askInput', (arg?: { prompt?: string }) => this.askFromEditor(arg?.prompt));
    for (const name of slashCommands) add(`smallcode.palette.${name}`, () => this.slash(name));
    add('smallcode.showDiff', () => this.showDiff());
    add('smallcode.showAnswer', () => this.answer.show());
    add('smallcode.setApiKey', async (key?: string) => {
      if (await this.server.apiKey.prompt(typeof key === 'string' ? key : undefined)) await this.server.pushSettings();
    });
    add('smallcode.cancelRun', async () => this.report('cancel', await this.server.execute('cancel')));
    add('smallcode.restartServer', () => this.server.restart());
    add('smallcode.showLogs', () => this.server.log.show(true));
    // code actions and lenses run smallcode.ask through the client: ask for a prompt when they carry none
    this.server.onAsk = async (args, run) => {
      if (!args.prompt && args.source !== 'comment') {
        const prompt = await vscode.window.showInputBox({
          title: 'Ask SmallCode',
          prompt: args.diagnostics?.length ? 'What should change? (empty: fix the error)' : 'What should change?',
        });
        if (prompt === undefined) return undefined;
        args.prompt = prompt || undefined;
      }
      return this.runAsk(args, run);
    };
  }

  /** "SmallCode: Ask…": a prompt from the input box (or the argument), the selection as context. */
  async askFromEditor(given?: string): Promise<CommandReply | undefined> {
    const editor = askableEditor();
    const selection = editor && !editor.selection.isEmpty ? editor.selection : undefined;
    const prompt =
      given ??
      (await vscode.window.showInputBox({
        title: 'Ask SmallCode',
        prompt: selection ? `About lines ${selection.start.line + 1}-${selection.end.line + 1} of the file` : 'What should SmallCode do?',
        placeHolder: 'e.g. add input validation',
      }));
    if (!prompt) return undefined;
    const args: AskArgs = { prompt };
    if (editor) args.uri = editor.document.uri.toString();
    if (editor && selection) {
      args.range = {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      };
    }
    return this.runAsk(args, (ask) => this.server.execute('ask', ask));
  }

  /** The chat view's Send: the prompt about the active file; the answer shows in the view, not a notification. */
  async askFromChat(prompt: string): Promise<CommandReply> {
    const editor = askableEditor();
    const args: AskArgs = { prompt };
    if (editor) args.uri = editor.document.uri.toString();
    return this.runAsk(args, (ask) => this.server.execute('ask', ask), false);
  }

  /**
   * One run: progress in a notification with Cancel (the server's progress, see progress.ts), the model's text
   * in the SmallCode: Model channel and the chat view, then a one-line notification that opens the whole answer
   * (none for the chat's own asks: the view shows it).
   */
  private async runAsk(args: AskArgs, run: (args: AskArgs) => Promise<unknown>, notify = true): Promise<CommandReply> {
    if (args.uri && !args.diagnostics?.length) {
      const asked = referencedDiagnostics(args.prompt, vscode.languages.getDiagnostics(vscode.Uri.parse(args.uri)), args.range);
      if (asked.length) args.diagnostics = asked;
    }
    const title = args.prompt || (args.diagnostics?.length ? 'fix the diagnostic' : 'ask');
    this.server.transcript.begin(title);
    this.chat?.runStarted(title);
    let reply: CommandReply = { ok: false, text: '', error: 'no answer from the server (SmallCode: Show Logs)', data: {} };
    try {
      const answer = await this.server.running(() => run(args));
      if (answer && typeof answer === 'object' && 'data' in answer) reply = answer as CommandReply;
    } finally {
      this.chat?.runEnded(reply);
    }
    this.last.set('ask', reply);
    this.answer.put(answerMarkdown(args.prompt, reply));
    const edits = (Array.isArray(reply.data?.edits) ? reply.data.edits : []) as ProposedEdit[];
    const actions = ['Open Answer', ...(edits.length ? ['Show Changes'] : [])];
    // ok=false: busy, failed, cancelled or crashed; the error says why
    const failed = reply.ok === false;
    this.lastNotice = `SmallCode: ${shortNotice((failed ? reply.error : reply.text) || reply.text) || (failed ? 'the run failed' : 'done')}`;
    if (!notify) return reply;
    const shown = failed
      ? vscode.window.showWarningMessage(this.lastNotice, ...actions)
      : vscode.window.showInformationMessage(this.lastNotice, ...actions);
    void shown.then((choice) => {
      if (choice === 'Open Answer') void this.answer.show();
      if (choice === 'Show Changes') void this.showDiff();
    });
    return reply;
  }

  /** One slash command: quick pick for model, sessions and trace; the panel or a message for the rest. */
  async slash(name: string): Promise<CommandReply> {
    const reply = await this.server.execute(name);
    this.last.set(name, reply);
    if (reply.ok === false) {
      void this.server.showWarning(`SmallCode: ${reply.error || reply.text}`);
      return reply;
    }
    if (name === 'model') return this.pick(name, reply, modelRows(reply.data), 'Switch the model', (v) => ({ name: v }));
    if (name === 'sessions') return this.pick(name, reply, sessionRows(reply.data), 'Resume a session', (v) => ({ action: 'resume', id: v }));
    if (name === 'trace' && traceRows(reply.data).length) {
      const picked = await this.choose(traceRows(reply.data), 'Show a trace');
      const shown = picked ? await this.server.execute('trace', { action: 'show', id: picked }) : reply;
      this.last.set('trace', shown);
      this.panel.show(name, shown);
      return shown;
    }
    if (PANEL.has(name)) {
      this.panel.show(name, reply);
    } else {
      this.report(name, reply);
    }
    if (name === 'clear') await this.server.refreshStatus();
    return reply;
  }

  private async choose(rows: PickRow[], title: string): Promise<string | undefined> {
    const picked = await vscode.window.showQuickPick(rows, { title: `SmallCode: ${title}`, matchOnDescription: true });
    return picked?.value;
  }

  private async pick(name: string, reply: CommandReply, rows: PickRow[], title: string, arg: (value: string) => unknown): Promise<CommandReply> {
    if (rows.length === 0) {
      this.report(name, reply);
      return reply;
    }
    const value = await this.choose(rows, title);
    if (value === undefined) return reply;
    const done = await this.server.execute(name, arg(value));
    this.last.set(name, done);
    this.report(name, done);
    if (name === 'model' && done.ok !== false && typeof done.data.model === 'string') await this.server.modelSwitched(done.data.model);
    else await this.server.refreshStatus();
    return done;
  }

  private report(name: string, reply: CommandReply): void {
    if (reply.ok === false) void this.server.showWarning(`SmallCode: ${reply.error || reply.text}`);
    else void vscode.window.showInformationMessage(`SmallCode ${name}: ${shortNotice(reply.text, 300)}`);
  }

  /** "SmallCode: Show Proposed Changes": the edits of the last (or running) task in the diff editor. */
  async showDiff(): Promise<CommandReply> {
    const editor = vscode.window.activeTextEditor;
    const reply = await this.server.execute('diff', editor ? { uri: editor.document.uri.toString() } : undefined);
    this.last.set('diff', reply);
    const edits = (Array.isArray(reply.data.edits) ? reply.data.edits : []) as ProposedEdit[];
    if (edits.length === 0) {
      void vscode.window.showInformationMessage('SmallCode: no edits proposed in this run');
      return reply;
    }
    let index = edits.length - 1;
    if (edits.length > 1) {
      const rows = edits.map((e, i) => ({ label: e.path, description: e.status, detail: e.label, value: String(i) }));
      const picked = await this.choose(rows.reverse(), 'Proposed changes');
      if (picked === undefined) return reply;
      index = Number(picked);
    }
    const root = (editor && vscode.workspace.getWorkspaceFolder(editor.document.uri)?.uri) ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    if (root) await showEditDiff(this.docs, root, edits, index);
    return reply;
  }
}
