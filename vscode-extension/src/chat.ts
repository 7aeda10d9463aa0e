// The chat view's conversation: each ask with the model's streamed text (tool-call markup as "▶ tool(args)"),
// its tool steps as they run, checks, review decisions and the final answer, rendered as HTML for the webview:
// the model's prose and answer as Markdown, everything else escaped. No `vscode` import (unit-tested).
import MarkdownIt from 'markdown-it';
import { escapeHtml } from './render';
import { ToolMarkupFilter } from './transcript';

/** A `smallcode/step` notification (docs/EDITORS.md, "Chat: steps of a run"). */
export interface Step {
  runId?: string;
  kind: string;
  id?: number;
  name?: string;
  label?: string;
  state?: string;
  ms?: number;
  error?: string;
  text?: string;
}

type Item =
  | { type: 'text'; text: string }
  | { type: 'tool'; id: number | undefined; label: string; state: string; ms?: number; error?: string }
  | { type: 'note'; kind: string; text: string };

export interface Turn {
  prompt: string;
  items: Item[];
  /** The run's end: its answer (or why it failed). */
  end?: { ok: boolean; text: string };
}

/** The reply of smallcode.ask as far as the chat needs it. */
export interface AskReply {
  ok?: boolean;
  text: string;
  error?: string | null;
  data?: Record<string, unknown>;
}

const MAX_TURNS = 100;

export class Conversation {
  readonly turns: Turn[] = [];
  private filter = new ToolMarkupFilter();

  get running(): boolean {
    const last = this.turns[this.turns.length - 1];
    return last !== undefined && last.end === undefined;
  }

  /** An ask starts (from the view, the palette or a lens: one conversation either way). */
  begin(prompt: string): void {
    this.filter = new ToolMarkupFilter();
    this.turns.push({ prompt, items: [] });
    if (this.turns.length > MAX_TURNS) this.turns.splice(0, this.turns.length - MAX_TURNS);
  }

  /** A `smallcode/stream` notification of the running ask. */
  stream(params: { text?: string; done?: boolean }): void {
    const turn = this.open();
    if (!turn) return;
    if (params.text) this.addText(turn, this.filter.push(params.text));
    if (params.done) {
      this.addText(turn, this.filter.flush());
      this.filter = new ToolMarkupFilter();
    }
  }

  /** A `smallcode/step` notification of the running ask: a tool's start updated in place by its end. */
  step(step: Step): void {
    const turn = this.open();
    if (!turn) return;
    if (step.kind === 'tool') {
      const label = step.label || step.name || 'tool';
      const known = step.id === undefined ? undefined : turn.items.find((i) => i.type === 'tool' && i.id === step.id);
      if (known && known.type === 'tool') {
        Object.assign(known, { label, state: step.state ?? known.state, ms: step.ms, error: step.error });
      } else {
        turn.items.push({ type: 'tool', id: step.id, label, state: step.state ?? 'running', ms: step.ms, error: step.error });
      }
      return;
    }
    if (step.text) turn.items.push({ type: 'note', kind: step.kind, text: step.text });
  }

  /** The ask's reply: the answer, unless the stream already showed it (then only what follows it). */
  end(reply: AskReply): void {
    const turn = this.open();
    if (!turn) return;
    this.addText(turn, this.filter.flush());
    const failed = reply.ok === false;
    // a failure's text says the most ("Stopped: you ended the run in the review. …"), its error the least
    let text = (failed ? reply.text || reply.error || 'the run failed' : reply.text) ?? '';
    const response = typeof reply.data?.response === 'string' ? reply.data.response.trim() : '';
    const streamed = turn.items.filter((i) => i.type === 'text').map((i) => (i as { text: string }).text).join('');
    if (response && streamed.includes(response) && text.startsWith(response)) text = text.slice(response.length).trim();
    // a check step may have said it already ("not verified: no tests found")
    const notes = new Set(turn.items.filter((i) => i.type === 'note').map((i) => (i as { text: string }).text.trim()));
    text = text
      .split('\n')
      .filter((line) => !notes.has(line.trim()))
      .join('\n')
      .trim();
    turn.end = { ok: !failed, text };
  }

  clear(): void {
    this.turns.length = 0;
    this.filter = new ToolMarkupFilter();
  }

  private open(): Turn | undefined {
    const last = this.turns[this.turns.length - 1];
    return last && !last.end ? last : undefined;
  }

  private addText(turn: Turn, text: string): void {
    if (!text) return;
    const last = turn.items[turn.items.length - 1];
    if (last?.type === 'text') last.text += text;
    else turn.items.push({ type: 'text', text });
  }
}

const TOOL_MARK: Record<string, string> = { running: '…', ok: '✓', failed: '✗', rejected: '⊘' };

// The model's text as Markdown (fenced code, lists, emphasis): raw HTML in it stays text, links only with a safe
// scheme (markdown-it refuses javascript: and the like), no guessing of links in plain words.
const markdown = new MarkdownIt({ html: false, linkify: false, breaks: true });

const FENCE = /^ {0,3}(```|~~~)/;

/** Text from the model: Markdown, except the filter's "▶ tool(args)" lines, which stand out from the prose. */
export function modelTextHtml(text: string): string {
  const parts: string[] = [];
  let prose = '';
  let inFence = false; // a "▶" line inside a code block is code
  const flush = () => {
    if (prose.trim()) parts.push(markdown.render(prose));
    prose = '';
  };
  for (const line of text.split(/(?<=\n)/)) {
    if (FENCE.test(line)) inFence = !inFence;
    if (!inFence && line.startsWith('▶ ')) {
      flush();
      parts.push(`<span class="call">${escapeHtml(line)}</span>`);
    } else prose += line;
  }
  flush();
  return parts.join('');
}

function itemHtml(item: Item): string {
  if (item.type === 'text') return `<div class="text">${modelTextHtml(item.text)}</div>`;
  if (item.type === 'tool') {
    const mark = TOOL_MARK[item.state] ?? '•';
    const ms = item.ms !== undefined ? ` <span class="muted">${Math.round(item.ms)} ms</span>` : '';
    const error = item.error ? `<div class="error">${escapeHtml(item.error)}</div>` : '';
    return `<div class="step tool ${escapeHtml(item.state)}"><span class="mark">${mark}</span> ${escapeHtml(item.label)}${ms}${error}</div>`;
  }
  return `<div class="step note ${escapeHtml(item.kind)}">${escapeHtml(item.text)}</div>`;
}

/** The conversation as HTML (every model and user string escaped). */
export function conversationHtml(conversation: Conversation): string {
  if (conversation.turns.length === 0) {
    return '<p class="muted empty">Ask SmallCode about this workspace. Follow-ups continue the conversation.</p>';
  }
  return conversation.turns
    .map((turn) => {
      const items = turn.items.map(itemHtml).join('');
      const end = !turn.end
        ? '<div class="muted working">working…</div>'
        : turn.end.text
          ? `<div class="answer ${turn.end.ok ? 'ok' : 'failed'}">${modelTextHtml(turn.end.text)}</div>`
          : '';
      return `<section class="turn"><div class="user">${escapeHtml(turn.prompt)}</div><div class="reply">${items}${end}</div></section>`;
    })
    .join('');
}

/** Messages from the webview's script. */
export type ViewMessage = { type: 'send'; text: string } | { type: 'stop' } | { type: 'new' } | { type: 'ready' };

export function isViewMessage(value: unknown): value is ViewMessage {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (v.type === 'send' && typeof v.text === 'string') || v.type === 'stop' || v.type === 'new' || v.type === 'ready';
}

/**
 * The view's page: a strict CSP (no remote content; only this page's script, by its nonce), the log filled
 * by `render` messages, the input with Send, Stop and New conversation.
 */
export function chatPageHtml(nonce: string, cspSource: string, body: string): string {
  const csp = [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
body { padding: 0 8px; font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); display: flex; flex-direction: column; height: 100vh; margin: 0; box-sizing: border-box; }
#log { flex: 1; overflow-y: auto; padding-top: 6px; }
.turn { margin-bottom: 12px; }
.user { background: var(--vscode-input-background); border-left: 3px solid var(--vscode-focusBorder); padding: 4px 8px; white-space: pre-wrap; margin-bottom: 4px; }
.text { margin: 4px 0; }
.text p, .answer p, .text ul, .answer ul, .text ol, .answer ol { margin: 4px 0; }
pre { background: var(--vscode-textCodeBlock-background); padding: 4px 6px; overflow-x: auto; margin: 4px 0; }
code { font-family: var(--vscode-editor-font-family); font-size: 0.95em; }
.call { display: block; white-space: pre-wrap; font-family: var(--vscode-editor-font-family); font-size: 0.95em; }
.call, .tool { color: var(--vscode-textLink-foreground); }
.step { margin: 2px 0; font-family: var(--vscode-editor-font-family); font-size: 0.9em; }
.tool.failed, .error, .answer.failed { color: var(--vscode-errorForeground); }
.tool.rejected, .tool.rejected .error { color: var(--vscode-descriptionForeground); }
.tool.ok .mark { color: var(--vscode-testing-iconPassed, #3fa66a); }
.note { color: var(--vscode-descriptionForeground); font-style: italic; }
.note.approval { color: var(--vscode-editorWarning-foreground); font-style: normal; }
.answer { margin-top: 4px; border-top: 1px solid var(--vscode-panel-border); padding-top: 4px; }
.muted { color: var(--vscode-descriptionForeground); }
form { display: flex; flex-direction: column; gap: 4px; padding: 6px 0 8px; }
textarea { resize: vertical; min-height: 3em; font-family: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 4px; }
.buttons { display: flex; gap: 4px; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 4px 10px; cursor: pointer; }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button:disabled { opacity: 0.5; cursor: default; }
</style></head>
<body>
<div id="log">${body}</div>
<form id="ask">
<textarea id="prompt" placeholder="Ask SmallCode… (Enter sends, Shift+Enter: new line)" aria-label="Message"></textarea>
<div class="buttons"><button id="send" type="submit">Send</button><button id="stop" type="button" class="secondary" disabled>Stop</button><button id="new" type="button" class="secondary">New conversation</button></div>
</form>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const log = document.getElementById('log');
const prompt = document.getElementById('prompt');
const send = document.getElementById('send');
const stop = document.getElementById('stop');
function submit() {
  const text = prompt.value.trim();
  if (!text || send.disabled) return;
  vscode.postMessage({ type: 'send', text });
  prompt.value = '';
}
document.getElementById('ask').addEventListener('submit', (event) => { event.preventDefault(); submit(); });
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); submit(); }
});
stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
document.getElementById('new').addEventListener('click', () => vscode.postMessage({ type: 'new' }));
window.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type !== 'render') return;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.innerHTML = message.html;
  send.disabled = message.running;
  stop.disabled = !message.running;
  if (atBottom) log.scrollTop = log.scrollHeight;
});
vscode.postMessage({ type: 'ready' });
</script>
</body></html>`;
}
