// SmallCode for VS Code: the language client, palette commands, status, diff preview.
import * as vscode from 'vscode';
import { Commands } from './commands';
import { onPythonChanged } from './python';
import { SmallCodeServer } from './server';
import { needsRestart } from './settings';
import { selfTest } from './selftest';
import { DIFF_SCHEME, DiffDocuments, Panel } from './views';

let server: SmallCodeServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  server = new SmallCodeServer();
  const panel = new Panel();
  const docs = new DiffDocuments();
  const commands = new Commands(server, panel, docs);
  const slashCommands = ((context.extension.packageJSON.contributes?.commands ?? []) as { command: string }[])
    .map((c) => c.command)
    .filter((id) => id.startsWith('smallcode.palette.'))
    .map((id) => id.slice('smallcode.palette.'.length));
  commands.register(context, slashCommands);
  context.subscriptions.push(server, panel, docs, vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, docs));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!server || !event.affectsConfiguration('smallcode')) return;
      if (needsRestart((section) => event.affectsConfiguration(section))) await server.restart();
      else await server.pushSettings();
    }),
  );
  const pythonChanged = await onPythonChanged(() => {
    if (!vscode.workspace.getConfiguration('smallcode').get<string>('server.pythonCommand')) void server?.restart();
  });
  if (pythonChanged) context.subscriptions.push(pythonChanged);

  await server.start();
  const resultPath = process.env.SMALLCODE_VSCODE_SELFTEST;
  if (resultPath) void selfTest(resultPath, server, commands, panel);
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
