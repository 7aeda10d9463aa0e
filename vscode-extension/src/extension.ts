// SmallCode for VS Code: the language client, palette commands, status, diff preview.
import * as vscode from 'vscode';
import { ChatView } from './chatView';
import { Commands } from './commands';
import { onPythonChanged } from './python';
import { ApiKey } from './secrets';
import { SmallCodeServer } from './server';
import { ReviewController } from './reviewEditor';
import { needsRestart } from './settings';
import { selfTest } from './selftest';
import { ANSWER_SCHEME, AnswerDocument, DIFF_SCHEME, DiffDocuments, Panel } from './views';

let server: SmallCodeServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const apiKey = new ApiKey(context.secrets, (message) => void server?.showWarning(message));
  server = new SmallCodeServer(apiKey);
  const panel = new Panel();
  const docs = new DiffDocuments();
  const answer = new AnswerDocument();
  const commands = new Commands(server, panel, docs, answer);
  const slashCommands = ((context.extension.packageJSON.contributes?.commands ?? []) as { command: string }[])
    .map((c) => c.command)
    .filter((id) => id.startsWith('smallcode.palette.'))
    .map((id) => id.slice('smallcode.palette.'.length));
  commands.register(context, slashCommands);
  // per-hunk review of proposed edits in the diff editor (smallcode/review)
  const reviews = new ReviewController(docs);
  reviews.register(context);
  server.onReview = (params, token) => reviews.handle(params, token);
  // the chat in the sidebar: every ask shows there; its Send is the same ask
  const chat = new ChatView(server);
  chat.register(context);
  commands.chat = {
    runStarted: (prompt) => chat.runStarted(prompt),
    runEnded: (reply) => {
      chat.runEnded(reply);
      reviews.closeStale();
    },
  };
  chat.actions = {
    ask: (prompt) => commands.askFromChat(prompt),
    cancel: async () => vscode.commands.executeCommand('smallcode.cancelRun'),
    clear: () => commands.slash('clear'),
  };
  context.subscriptions.push(
    server,
    panel,
    docs,
    answer,
    apiKey,
    vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, docs),
    vscode.workspace.registerTextDocumentContentProvider(ANSWER_SCHEME, answer),
  );

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!server || !event.affectsConfiguration('smallcode')) return;
      // a key typed into the settings again moves to secret storage (clearing it changes the settings again)
      if (event.affectsConfiguration('smallcode.apiKey') && (await apiKey.migrate())) return;
      if (needsRestart((section) => event.affectsConfiguration(section))) await server.restart();
      else await server.pushSettings();
    }),
    apiKey.onDidChange(() => server?.pushSettings()),
  );
  const pythonChanged = await onPythonChanged(() => {
    if (!vscode.workspace.getConfiguration('smallcode').get<string>('server.pythonCommand')) void server?.restart();
  });
  if (pythonChanged) context.subscriptions.push(pythonChanged);

  // the key the server starts with: from secret storage, moved there first from the old plain setting
  await apiKey.load();
  await apiKey.migrate();
  await server.start();
  const resultPath = process.env.SMALLCODE_VSCODE_SELFTEST;
  if (resultPath) void selfTest(resultPath, server, commands, panel, context, reviews, chat);
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
