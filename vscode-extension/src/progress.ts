// The server's cancellable work-done progress (an ask, a plan step) as a notification with a Cancel button.
// vscode-languageclient shows server progress in the status bar, where VS Code offers no Cancel; this takes
// those over (the middleware's handleWorkDoneProgress) and keeps the server's own cancel path: Cancel sends
// window/workDoneProgress/cancel for the token, which stops the run on the server.
import * as vscode from 'vscode';
import { ProgressToken, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageclient/node';

type Value = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** What one notification showed (the self-test reads them). */
export interface ShownProgress {
  title: string;
  messages: string[];
  cancelled: boolean;
  ended: boolean;
}

interface Open {
  shown: ShownProgress;
  progress?: vscode.Progress<{ message?: string }>;
  finish?: () => void;
}

export class ProgressNotifications implements vscode.Disposable {
  private readonly open = new Map<ProgressToken, Open>();
  readonly shown: ShownProgress[] = [];

  /** `cancel` tells the server the user cancelled the progress with this token. */
  constructor(private readonly cancel: (token: ProgressToken) => void) {}

  /** The client middleware's handleWorkDoneProgress: `next` is the status-bar handling. */
  handle(token: ProgressToken, value: Value, next: () => void): void {
    const open = this.open.get(token);
    if (value.kind === 'begin') {
      if (value.cancellable) this.begin(token, value);
      else next(); // nothing to cancel: the status bar is the quieter place
      return;
    }
    if (!open) return next();
    if (value.kind === 'report') {
      if (value.message) {
        open.shown.messages.push(value.message);
        open.progress?.report({ message: value.message });
      }
      return;
    }
    open.shown.ended = true;
    open.finish?.();
    this.open.delete(token);
    next(); // lets the client drop its handler for this token
  }

  private begin(token: ProgressToken, value: WorkDoneProgressBegin): void {
    const shown: ShownProgress = { title: value.title, messages: value.message ? [value.message] : [], cancelled: false, ended: false };
    const open: Open = { shown };
    this.shown.push(shown);
    this.open.set(token, open);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: value.title, cancellable: true },
      (progress, cancelled) =>
        new Promise<void>((resolve) => {
          if (shown.ended) return resolve(); // ended before VS Code showed it
          open.progress = progress;
          open.finish = resolve;
          if (value.message) progress.report({ message: value.message });
          cancelled.onCancellationRequested(() => {
            shown.cancelled = true;
            this.cancel(token);
          });
        }),
    );
  }

  dispose(): void {
    for (const open of this.open.values()) open.finish?.();
    this.open.clear();
  }
}
