// Where answers are shown: the SmallCode panel (a webview) and VS Code's diff editor for proposed edits.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { createsFile, DiffError, ProposedEdit, sidesOf } from './diff';
import { CommandReply, pageHtml } from './render';

export class Panel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  /** The last page shown (the self-test reads it). */
  lastHtml = '';

  show(command: string, reply: CommandReply): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('smallcode.result', 'SmallCode', vscode.ViewColumn.Beside, {
        enableScripts: false,
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.panel.title = `SmallCode: ${command}`;
    this.lastHtml = pageHtml(command, reply, crypto.randomBytes(16).toString('hex'));
    this.panel.webview.html = this.lastHtml;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

export const ANSWER_SCHEME = 'smallcode-answer';

/** The last run's whole answer, a read-only Markdown document ("Open Answer" on the run's notification). */
export class AnswerDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  readonly uri = vscode.Uri.from({ scheme: ANSWER_SCHEME, path: '/SmallCode Answer.md' });
  private text = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(): string {
    return this.text;
  }

  put(markdown: string): void {
    this.text = markdown;
    this.changed.fire(this.uri);
  }

  async show(): Promise<vscode.TextEditor> {
    const doc = await vscode.workspace.openTextDocument(this.uri);
    return vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export const DIFF_SCHEME = 'smallcode-diff';

/** Read-only documents holding each side of a proposed edit. */
export class DiffDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private serial = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  put(side: string, path: string, text: string): vscode.Uri {
    this.serial += 1;
    const uri = vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/${side}/${path}`, query: String(this.serial) });
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function fileUri(root: vscode.Uri, path: string): vscode.Uri {
  return path.startsWith('/') ? vscode.Uri.file(path) : vscode.Uri.joinPath(root, path);
}

async function currentText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return ''; // a file the edit creates
  }
}

/** Open VS Code's diff editor on `edits[index]` (before on the left, after on the right). */
export async function showEditDiff(docs: DiffDocuments, root: vscode.Uri, edits: ProposedEdit[], index: number): Promise<void> {
  const edit = edits[index];
  const uri = fileUri(root, edit.path);
  const sameFile = edits.filter((e) => e.path === edit.path);
  const at = sameFile.indexOf(edit);
  let sides;
  try {
    sides = sidesOf(createsFile(sameFile[0]) && sameFile[0].status !== 'applied' ? '' : await currentText(uri), sameFile, at);
  } catch (error) {
    if (!(error instanceof DiffError)) throw error;
    // the file moved on since: show the diff itself
    const doc = await vscode.workspace.openTextDocument({ language: 'diff', content: edit.diff });
    await vscode.window.showTextDocument(doc, { preview: true });
    return;
  }
  const left = docs.put('before', edit.path, sides.before);
  const right = edit.status === 'applied' && at === sameFile.length - 1 ? uri : docs.put('after', edit.path, sides.after);
  await vscode.commands.executeCommand('vscode.diff', left, right, `${edit.path} (SmallCode, ${edit.status})`, { preview: true });
}
