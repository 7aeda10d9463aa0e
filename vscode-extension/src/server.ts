// The language server's lifecycle: start with the right Python, restart on launch-setting changes, push
// other setting changes live, status item, logs, progress notifications, the model's transcript, and
// smallcode.* requests.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  ShowMessageNotification,
  MessageType,
  State,
  WorkDoneProgressCancelNotification,
} from 'vscode-languageclient/node';
import { Step } from './chat';
import { ProgressNotifications } from './progress';
import { REVIEW_REQUEST, ReviewCapability } from './reviewEditor';
import { isReviewParams, Review, ReviewAnswer, ReviewParams } from './review';
import { activePython } from './python';
import { CommandReply, isReply, StatusState, statusText } from './render';
import { saveDocuments } from './save';
import { ApiKey } from './secrets';
import { agentOptionsKey, explicitOptions, LaunchSettings, serverLaunch, serverOptions } from './settings';
import { Transcript } from './transcript';

export const SECTION = 'smallcode';
export const SAVE_DOCUMENTS = 'smallcode/saveDocuments';

/** The loaded document for a uri the server sent (compared as resources: encodings of a path differ). */
function findDocument(uri: string): vscode.TextDocument | undefined {
  const target = vscode.Uri.parse(uri);
  return vscode.workspace.textDocuments.find((d) =>
    d.uri.scheme === 'file' && target.scheme === 'file' ? d.uri.fsPath === target.fsPath : d.uri.toString() === target.toString(),
  );
}

/** `smallcode/stream`: the model's text as it arrives; done ends a run's stream. */
export interface StreamParams {
  runId?: string;
  text?: string;
  done?: boolean;
}


export interface AskArgs {
  prompt?: string;
  uri?: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  source?: string;
  diagnostics?: unknown[];
}

export class SmallCodeServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  readonly log: vscode.OutputChannel;
  readonly answers: vscode.OutputChannel;
  readonly status: vscode.LanguageStatusItem;
  /** The model's streamed text in the answers channel, tool-call markup as "▶ tool(args)" lines. */
  readonly transcript: Transcript;
  /** Cancellable server progress as notifications. */
  readonly progress: ProgressNotifications;
  private state: StatusState = { running: false };
  /** The model picked with "SmallCode: Model" (the server keeps it until it rebuilds its agent). */
  private switchedModel: string | undefined;
  /** agentOptionsKey of the options the server has now. */
  private agentOptions = '';
  private readonly disposables: vscode.Disposable[] = [];
  /** Hook for the ask flow (prompting, showing the answer) when a lens or code action runs smallcode.ask. */
  onAsk: ((args: AskArgs, run: (args: AskArgs) => Promise<unknown>) => Promise<unknown>) | undefined;
  /** Answers `smallcode/review` (the review editor); without it every change is rejected. */
  onReview: ((params: ReviewParams, token: vscode.CancellationToken) => Promise<ReviewAnswer>) | undefined;
  private readonly streamed = new vscode.EventEmitter<StreamParams>();
  /** Every `smallcode/stream` notification (the chat view listens). */
  readonly onStream = this.streamed.event;
  private readonly stepped = new vscode.EventEmitter<Step>();
  /** Every `smallcode/step` notification (the chat view listens). */
  readonly onStep = this.stepped.event;

  constructor(readonly apiKey: ApiKey) {
    this.log = vscode.window.createOutputChannel('SmallCode');
    this.answers = vscode.window.createOutputChannel('SmallCode: Model');
    this.transcript = new Transcript((text) => this.answers.append(text));
    this.progress = new ProgressNotifications((token) => {
      void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
    });
    this.status = vscode.languages.createLanguageStatusItem('smallcode.status', [{ scheme: 'file' }, { scheme: 'untitled' }]);
    this.status.name = 'SmallCode';
    this.status.command = { title: 'Budget', command: 'smallcode.palette.budget' };
    this.renderStatus();
    this.disposables.push(this.log, this.answers, this.status, this.progress, this.streamed, this.stepped);
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /**
   * The server options the user set in the `smallcode` settings (defaults are the server's own), and the API
   * key from secret storage (a plain `smallcode.apiKey` only while it could not be moved there).
   */
  options(): Record<string, unknown> {
    const config = this.config();
    const keys = Object.keys(serverOptions(JSON.parse(JSON.stringify(config)) as Record<string, unknown>));
    // null defaults are dropped by serverOptions: list them too, a user may have set them
    const declared = Object.keys(this.declared).map((k) => k.slice(SECTION.length + 1));
    const options = explicitOptions([...new Set([...keys, ...declared])], (key) => config.inspect(key));
    if (this.apiKey.value) options.apiKey = this.apiKey.value;
    return options;
  }

  /** The settings package.json contributes. */
  private get declared(): Record<string, unknown> {
    const extension = vscode.extensions.all.find((e) => e.packageJSON?.name === 'smallcode' && e.packageJSON?.contributes?.configuration);
    return (extension?.packageJSON.contributes.configuration.properties ?? {}) as Record<string, unknown>;
  }

  async start(): Promise<void> {
    const config = this.config();
    const launchSettings: LaunchSettings = {
      command: config.get<string[]>('server.command', []),
      pythonCommand: config.get<string>('server.pythonCommand', ''),
      logLevel: config.get<string>('server.logLevel', 'INFO'),
    };
    const folder = vscode.workspace.workspaceFolders?.[0];
    const launch = serverLaunch(launchSettings, launchSettings.pythonCommand ? undefined : await activePython(folder?.uri));
    this.log.appendLine(`Starting ${[launch.command, ...launch.args].join(' ')} (Python from ${launch.source})`);
    const server: ServerOptions = { command: launch.command, args: launch.args, options: { cwd: folder?.uri.fsPath } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: this.options(),
      middleware: {
        // cancellable progress becomes a notification with Cancel (the status bar has none)
        handleWorkDoneProgress: (token, params, next) => this.progress.handle(token, params, () => next(token, params)),
        // vscode-languageclient 9 sends VS Code's inline completion context as it is (see lspInlineContext)
        provideInlineCompletionItems: (document, position, context, token, next) =>
          next(document, position, lspInlineContext(context), token),
        workspace: {
          // the server pulls the `smallcode` section: give it only its own options
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            if (!Array.isArray(answer)) return answer;
            return answer.map((value, i) => (params.items[i]?.section === SECTION ? this.options() : value));
          },
        },
        executeCommand: async (command, args, next) => {
          if (command === 'smallcode.ask' && this.onAsk) {
            const first = (args[0] ?? {}) as AskArgs;
            return this.onAsk(typeof first === 'string' ? { prompt: first } : { ...first }, (ask) => next(command, [ask]));
          }
          return next(command, args);
        },
      },
    };
    const client = new LanguageClient('smallcode', 'SmallCode', server, clientOptions);
    // LSP 3.18's textDocument/inlineCompletion (ghost text), still a proposed feature in vscode-languageclient 9
    client.registerProposedFeatures();
    // per-hunk review of proposed edits (smallcode/review) instead of the refactor preview
    client.registerFeature(new ReviewCapability());
    this.client = client;
    this.switchedModel = undefined; // a new process starts with the configured model
    this.agentOptions = agentOptionsKey(clientOptions.initializationOptions as Record<string, unknown>);
    client.onDidChangeState((event) => {
      this.state.error = event.newState === State.Stopped ? 'stopped' : undefined;
      this.renderStatus();
    });
    try {
      await client.start();
    } catch (error) {
      this.state.error = String(error);
      this.renderStatus();
      void this.showError(
        `SmallCode: the language server did not start (${launch.command}): ${error}. ` +
          'Set smallcode.server.pythonCommand to a Python where smallcode is installed.',
      );
      return;
    }
    // errors and warnings from the server get a "Show Logs" button
    client.onNotification(ShowMessageNotification.type, (message) => {
      if (message.type === MessageType.Error) void this.showError(message.message);
      else if (message.type === MessageType.Warning) void this.showWarning(message.message);
      else void vscode.window.showInformationMessage(message.message);
    });
    // the server's applied edits are saved, so the agent's tests and shell see them (smallcode.saveAfterEdit)
    client.onRequest(SAVE_DOCUMENTS, (params: unknown) => saveDocuments(params, findDocument));
    client.onNotification('smallcode/stream', (params: StreamParams) => {
      this.transcript.stream(params);
      this.streamed.fire(params);
    });
    client.onNotification('smallcode/step', (params: Step) => this.stepped.fire(params));
    client.onRequest(REVIEW_REQUEST, (params: unknown, token: vscode.CancellationToken) =>
      isReviewParams(params) && this.onReview ? this.onReview(params, token) : Review.dismissed(),
    );
    await this.refreshStatus();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      await client.stop(5000).catch((error) => this.log.appendLine(`stopping the server: ${error}`));
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Settings that need no new process: sent to the running server (it rebuilds its agent, keeping the chat). */
  async pushSettings(): Promise<void> {
    if (this.client?.state === State.Running) {
      const options = this.options();
      await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: options } });
      // the server rebuilds its agent when these change, with the configured model
      const key = agentOptionsKey(options);
      if (key !== this.agentOptions) this.switchedModel = undefined;
      this.agentOptions = key;
      await this.refreshStatus();
    }
  }

  /** The server switched its model (smallcode.model's reply): the status shows it from now on. */
  async modelSwitched(model: string): Promise<void> {
    this.switchedModel = model;
    await this.refreshStatus();
  }

  /** Run `smallcode.<name>` on the server; a failure becomes {ok: false} with a message. */
  async execute(name: string, arg?: unknown): Promise<CommandReply> {
    if (!this.client || this.client.state !== State.Running) {
      return { data: {}, text: 'the SmallCode server is not running (SmallCode: Show Logs)', ok: false };
    }
    try {
      const answer = await this.client.sendRequest(ExecuteCommandRequest.type, {
        command: `smallcode.${name}`,
        arguments: arg === undefined ? [] : [arg],
      });
      return isReply(answer) ? answer : { data: { answer }, text: String(answer ?? ''), ok: true };
    } catch (error) {
      return { data: { error: String(error) }, text: `smallcode.${name} failed: ${error}`, ok: false };
    }
  }

  /** Runs `work` with the status showing "running". */
  async running<T>(work: () => Promise<T>): Promise<T> {
    this.state.running = true;
    this.renderStatus();
    try {
      return await work();
    } finally {
      this.state.running = false;
      await this.refreshStatus();
    }
  }

  async refreshStatus(): Promise<void> {
    const options = this.options();
    this.state.model = this.switchedModel ?? (typeof options.model === 'string' ? options.model : undefined);
    this.state.baseUrl = typeof options.baseUrl === 'string' ? options.baseUrl : undefined;
    if (this.client?.state === State.Running && !this.state.running) {
      const budget = await this.execute('budget');
      if (budget.ok !== false) {
        this.state.used = Number(budget.data.used ?? 0);
        this.state.window = Number(budget.data.window ?? 0);
      }
    }
    this.renderStatus();
  }

  statusSnapshot(): StatusState & { text: string; detail: string } {
    return { ...this.state, ...statusText(this.state) };
  }

  private renderStatus(): void {
    const { text, detail } = statusText(this.state);
    this.status.text = text;
    this.status.detail = detail;
    this.status.busy = this.state.running;
    this.status.severity = this.state.error ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
  }

  async showError(message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, 'Show Logs')) === 'Show Logs') this.log.show(true);
  }

  async showWarning(message: string): Promise<void> {
    if ((await vscode.window.showWarningMessage(message, 'Show Logs')) === 'Show Logs') this.log.show(true);
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
  }
}

/** VS Code's InlineCompletionTriggerKind as the number LSP 3.18 gives the same kind (see the middleware). */
export function lspTriggerKind(kind: vscode.InlineCompletionTriggerKind): vscode.InlineCompletionTriggerKind {
  return (kind === vscode.InlineCompletionTriggerKind.Invoke ? 1 : 2) as vscode.InlineCompletionTriggerKind;
}

/** VS Code's inline completion context as LSP 3.18's, which vscode-languageclient 9 sends unconverted: its
 * trigger kinds (Invoke 0, Automatic 1) are LSP's Invoked 1 and Automatic 2 (a 0 made every request fail to
 * parse on the server), and the suggest widget's selected item has a vscode.Range, which JSON writes as
 * [start, end] (every request while the widget was open failed with Invalid Params). */
export function lspInlineContext(context: vscode.InlineCompletionContext): vscode.InlineCompletionContext {
  const selected = context.selectedCompletionInfo;
  const position = (p: vscode.Position) => ({ line: p.line, character: p.character });
  return {
    ...context,
    triggerKind: lspTriggerKind(context.triggerKind),
    selectedCompletionInfo: selected && ({
      range: { start: position(selected.range.start), end: position(selected.range.end) },
      text: selected.text,
    } as unknown as vscode.SelectedCompletionInfo),
  };
}
