// The SmallCode chat in the sidebar (a webview view): the conversation with each run's streamed text, tool
// steps, checks and answer; Send runs the extension's ask (its progress notification with Cancel included),
// Stop cancels the run, New conversation clears the agent's session.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { AskReply, chatPageHtml, Conversation, conversationHtml, isViewMessage } from './chat';
import { SmallCodeServer } from './server';

export const CHAT_VIEW = 'smallcode.chat';

/** What the view needs of the commands: the ask path, Stop and New conversation. */
export interface ChatActions {
  ask(prompt: string): Promise<unknown>;
  cancel(): Promise<unknown>;
  clear(): Promise<unknown>;
}

export class ChatView implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly conversation = new Conversation();
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  actions: ChatActions | undefined;

  constructor(server: SmallCodeServer) {
    this.disposables.push(
      server.onStream((params) => {
        this.conversation.stream(params);
        this.changed();
      }),
      server.onStep((step) => {
        this.conversation.step(step);
        this.changed();
      }),
    );
  }

  register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
      // no retained context: a view shown again asks for the conversation ('ready') and is drawn afresh
      vscode.window.registerWebviewViewProvider(CHAT_VIEW, this),
      vscode.commands.registerCommand('smallcode.chat.new', () => this.newConversation()),
      vscode.commands.registerCommand('smallcode.chat.stop', () => this.actions?.cancel()),
      this,
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [] };
    view.webview.html = chatPageHtml(crypto.randomBytes(16).toString('hex'), view.webview.cspSource, this.html);
    view.webview.onDidReceiveMessage((message: unknown) => {
      if (!isViewMessage(message)) return;
      if (message.type === 'send') void this.send(message.text);
      else if (message.type === 'stop') void this.actions?.cancel();
      else if (message.type === 'new') void this.newConversation();
      else this.post();
    });
    view.onDidDispose(() => (this.view = undefined));
  }

  /** True once VS Code showed the view. */
  get resolved(): boolean {
    return this.view !== undefined;
  }

  /** The conversation's HTML as the view shows it (the self-test reads it). */
  get html(): string {
    return conversationHtml(this.conversation);
  }

  /** Send a message, as the view's Send does. */
  async send(prompt: string): Promise<unknown> {
    if (!prompt.trim() || !this.actions) return undefined;
    return this.actions.ask(prompt.trim());
  }

  async newConversation(): Promise<void> {
    await this.actions?.clear();
    this.conversation.clear();
    this.changed();
  }

  /** An ask starts, from here or anywhere (one conversation per workspace). */
  runStarted(prompt: string): void {
    this.conversation.begin(prompt);
    this.changed();
  }

  runEnded(reply: AskReply): void {
    this.conversation.end(reply);
    this.changed();
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
  }

  /** Redraw soon: stream chunks come many a second. */
  private changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.post();
    }, 50);
  }

  private post(): void {
    void this.view?.webview.postMessage({ type: 'render', html: this.html, running: this.conversation.running });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
