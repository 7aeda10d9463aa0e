// Readable views of the server's {data, text} answers: HTML for the SmallCode panel, quick-pick rows, the
// status text. No `vscode` import (unit-tested).

export interface CommandReply {
  data: Record<string, unknown>;
  text: string;
  ok?: boolean;
  /** Why the command did not do its work (when ok is false). */
  error?: string | null;
}

export function isReply(value: unknown): value is CommandReply {
  return typeof value === 'object' && value !== null && 'data' in value && 'text' in value;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function label(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '<span class="muted">—</span>';
  if (typeof value === 'boolean') return value ? '✓' : '✗';
  if (typeof value === 'number') return value.toLocaleString('en-US');
  return escapeHtml(String(value));
}

/** Any JSON as nested tables: objects as key/value rows, arrays of objects as one table, the rest inline. */
export function jsonToHtml(value: unknown, depth = 0): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '<span class="muted">none</span>';
    if (value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v)) && depth < 4) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      const head = columns.map((c) => `<th>${escapeHtml(label(c))}</th>`).join('');
      const rows = value
        .map((v) => `<tr>${columns.map((c) => `<td>${jsonToHtml((v as Record<string, unknown>)[c], depth + 1)}</td>`).join('')}</tr>`)
        .join('');
      return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
    }
    return value.map((v) => jsonToHtml(v, depth + 1)).join(', ');
  }
  if (typeof value === 'object' && value !== null) {
    const rows = Object.entries(value)
      .map(([k, v]) => `<tr><th>${escapeHtml(label(k))}</th><td>${jsonToHtml(v, depth + 1)}</td></tr>`)
      .join('');
    return rows ? `<table>${rows}</table>` : '<span class="muted">none</span>';
  }
  if (typeof value === 'string' && value.includes('\n')) return `<pre>${escapeHtml(value)}</pre>`;
  return scalar(value);
}

const BUDGET_PARTS: [string, string, string][] = [
  ['system', 'System prompt', '#5b8def'],
  ['task', 'Task', '#9b6bd6'],
  ['history', 'History', '#e0a03c'],
  ['tool_results', 'Tool results', '#d0605e'],
  ['reserve', 'Reply reserve', '#888888'],
  ['free', 'Free', '#3fa66a'],
];

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** The context window as a stacked bar and a table (smallcode.budget). */
export function budgetHtml(data: Record<string, unknown>): string {
  const window = num(data.window);
  const total = Math.max(window, num(data.used) + num(data.reserve)) || 1;
  const bar = BUDGET_PARTS.map(([key, name, color]) => {
    const pct = (100 * num(data[key])) / total;
    return pct > 0 ? `<div class="seg" title="${name}: ${num(data[key])}" style="width:${pct.toFixed(2)}%;background:${color}"></div>` : '';
  }).join('');
  const rows = BUDGET_PARTS.map(
    ([key, name, color]) =>
      `<tr><th><span class="dot" style="background:${color}"></span>${name}</th><td>${scalar(num(data[key]))}</td>` +
      `<td>${((100 * num(data[key])) / (window || 1)).toFixed(1)}%</td></tr>`,
  ).join('');
  const used = num(data.used);
  return (
    `<p><b>${scalar(used)}</b> of <b>${scalar(window)}</b> tokens used (${((100 * used) / (window || 1)).toFixed(0)}%)</p>` +
    `<div class="bar">${bar}</div><table>${rows}</table>`
  );
}

interface TraceEntry {
  type?: string;
  n?: number;
  ms?: number;
  name?: string;
  ok?: boolean;
  calls?: { name: string }[];
  usage?: { total_tokens?: number };
  result?: { success?: boolean; response?: string };
  task?: string;
}

/** One trace, turn by turn (smallcode.trace show), or the list of traces (smallcode.trace). */
export function traceHtml(data: Record<string, unknown>): string {
  if (Array.isArray(data.traces)) {
    return data.traces.length ? jsonToHtml(data.traces) : '<p class="muted">no traces yet</p>';
  }
  const entries = (Array.isArray(data.entries) ? data.entries : []) as TraceEntry[];
  const rows = entries
    .map((e) => {
      if (e.type === 'turn') {
        const calls = (e.calls ?? []).map((c) => escapeHtml(c.name)).join(', ') || 'answer';
        return `<tr class="turn"><th>turn ${scalar(e.n)}</th><td>${calls}</td><td>${scalar(e.ms)} ms</td><td>${scalar(e.usage?.total_tokens)} tokens</td></tr>`;
      }
      if (e.type === 'tool') {
        return `<tr><td></td><td>${escapeHtml(e.name ?? '')} ${e.ok ? '✓' : '✗'}</td><td>${scalar(e.ms)} ms</td><td></td></tr>`;
      }
      if (e.type === 'run_end') {
        return `<tr><th>end</th><td colspan="3">${e.result?.success ? 'success' : 'failure'}</td></tr>`;
      }
      if (e.type === 'run_start' && e.task) {
        return `<tr><th>task</th><td colspan="3">${escapeHtml(e.task)}</td></tr>`;
      }
      return '';
    })
    .join('');
  return `<p>Trace <code>${escapeHtml(String(data.id ?? ''))}</code></p><table>${rows}</table>`;
}

/** The SmallCode panel's page for one command's answer. */
export function pageHtml(command: string, reply: CommandReply, nonce: string): string {
  const body =
    command === 'budget' ? budgetHtml(reply.data) : command === 'trace' ? traceHtml(reply.data) : jsonToHtml(reply.data);
  const text = reply.text ? `<details${command === 'help' ? ' open' : ''}><summary>As text</summary><pre>${escapeHtml(reply.text)}</pre></details>` : '';
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src-elem 'nonce-${nonce}'; style-src-attr 'unsafe-inline';">
<style nonce="${nonce}">
body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);padding:0 1em}
table{border-collapse:collapse;margin:.4em 0}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
th{font-weight:600}.muted{opacity:.6}pre{white-space:pre-wrap}
.bar{display:flex;height:18px;width:100%;max-width:640px;border:1px solid var(--vscode-panel-border);margin:.6em 0}
.seg{height:100%}.dot{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.failed{color:var(--vscode-errorForeground)}
</style></head><body>
<h2>SmallCode: ${escapeHtml(label(command))}</h2>
${reply.ok === false ? `<p class="failed">${escapeHtml(reply.text)}</p>` : ''}
<div id="result">${body}</div>${text}
</body></html>`;
}

export interface PickRow {
  label: string;
  description?: string;
  detail?: string;
  value: string;
}

/** Quick-pick rows for smallcode.model: the models the server offers, the current one marked. */
export function modelRows(data: Record<string, unknown>): PickRow[] {
  const current = typeof data.model === 'string' ? data.model : undefined;
  const available = Array.isArray(data.available) ? data.available.map(String) : [];
  const names = current && !available.includes(current) ? [current, ...available] : available;
  return names.map((name) => ({ label: name, description: name === current ? 'current' : undefined, value: name }));
}

/** Quick-pick rows for smallcode.sessions: saved sessions, newest first as the server lists them. */
export function sessionRows(data: Record<string, unknown>): PickRow[] {
  const current = typeof data.current === 'string' ? data.current : undefined;
  const sessions = (Array.isArray(data.sessions) ? data.sessions : []) as Record<string, unknown>[];
  return sessions.map((s) => ({
    label: String(s.task || '(no task)').slice(0, 80),
    description: `${String(s.id)}${s.id === current ? ' · current' : ''}`,
    detail: `${scalar(s.messages)} messages`,
    value: String(s.id),
  }));
}

/** Quick-pick rows for smallcode.trace: one per saved trace. */
export function traceRows(data: Record<string, unknown>): PickRow[] {
  const traces = (Array.isArray(data.traces) ? data.traces : []) as Record<string, unknown>[];
  return traces.map((t) => ({
    label: String(t.task || '(no task)').slice(0, 80),
    description: `${String(t.id)} · ${t.success ? 'ok' : 'failed'}`,
    detail: `${scalar(t.turns)} turns`,
    value: String(t.id),
  }));
}

function compact(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(n >= 10000 ? 0 : 1)}k` : String(n);
}

export interface StatusState {
  model?: string;
  baseUrl?: string;
  used?: number;
  window?: number;
  running: boolean;
  error?: string;
}

/** The language status item's text and detail: model, context budget, run state. */
export function statusText(state: StatusState): { text: string; detail: string } {
  const model = state.model || (state.baseUrl ? 'server default' : 'embedded model');
  const budget = state.window ? `${compact(state.used ?? 0)}/${compact(state.window)} tokens` : 'context —';
  const run = state.error ? 'error' : state.running ? 'running' : 'idle';
  return { text: `${state.running ? '$(loading~spin)' : '$(hubot)'} ${model}`, detail: `${budget} · ${run}` };
}

/** A run's whole answer as Markdown (the answer document): the task, the model's text, the edits. */
export function answerMarkdown(prompt: string | undefined, reply: CommandReply): string {
  const title = (prompt ?? '').split('\n')[0].trim() || 'SmallCode';
  const parts = [`# ${title}`];
  if (reply.ok === false) parts.push(`**Not done:** ${reply.error || 'the run failed'}`);
  if (reply.text && reply.text !== reply.error) parts.push(reply.text);
  const edits = (Array.isArray(reply.data?.edits) ? reply.data.edits : []) as { path?: string; status?: string }[];
  if (edits.length) parts.push(`## Changes\n\n${edits.map((e) => `- \`${e.path}\` — ${e.status}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}
