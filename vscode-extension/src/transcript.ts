// The model's streamed text as people read it: tool-call markup (```json {"name": …} fences, <tool_call> tags)
// becomes one "▶ tool(args)" line, and a run's answer is summed up for a notification. No `vscode` import
// (unit-tested).

/** Fence languages whose block is a call when it holds JSON naming a tool (the server's parser reads more). */
const CALL_FENCES = new Set([
  '', 'json', 'json5', 'jsonc', 'tool_call', 'tool_calls', 'tool', 'tools', 'function', 'function_call', 'toolcall',
  'tool-call', 'call',
]);
const OPEN_TAG = /<(tool_calls?|tools?|toolcall|function_calls?|tool_use)>/i;
const MARKERS = ['```', '<'];
/** A held-back call longer than this is not one (or is broken): shown as the model wrote it. */
const MAX_CALL_CHARS = 100_000;

/** `▶ read_file(calc.py)`: the call's main argument (path, command, …) or its arguments, cut to one line. */
export function toolLine(name: string, args: unknown, width = 60): string {
  let shown = '';
  if (typeof args === 'string') {
    const raw = args;
    try {
      args = JSON.parse(raw);
    } catch {
      shown = raw;
    }
  }
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    const obj = args as Record<string, unknown>;
    const main = ['path', 'command', 'pattern', 'query', 'url', 'name'].find((k) => typeof obj[k] === 'string');
    shown = main ? String(obj[main]) : Object.keys(obj).length ? JSON.stringify(obj) : '';
  }
  return `▶ ${name}(${cut(shown.replace(/\s+/g, ' ').trim(), width)})`;
}

/** The text cut at a word to at most `max` characters, with an ellipsis when cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1);
  const space = head.lastIndexOf(' ');
  return `${(space > max / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

/** A notification's one line for an answer: its first non-empty line, cut at a word. */
export function shortNotice(text: string, max = 120): string {
  const first = text.split('\n').find((line) => line.trim() !== '') ?? '';
  return cut(first.replace(/\s+/g, ' ').trim(), max);
}

/** The tool calls in a fence's or tag's body, or undefined when it is not a call. */
export function parseCalls(body: string): { name: string; args: unknown }[] | undefined {
  const text = body.trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // cut short or not quite JSON: a call still when it plainly names one
    const name = /^[[{]\s*"(?:name|tool|function)"\s*:\s*"([\w.-]+)"/.exec(text)?.[1];
    if (name) return [{ name, args: undefined }];
    const xml = /<function[= ]"?([\w.-]+)/.exec(text)?.[1];
    return xml ? [{ name: xml, args: xmlParameters(text) }] : undefined;
  }
  const items = Array.isArray(value) ? value : [value];
  const calls = items.map((item) => {
    if (!item || typeof item !== 'object') return undefined;
    const obj = item as Record<string, unknown>;
    const fn = obj.function && typeof obj.function === 'object' ? (obj.function as Record<string, unknown>) : obj;
    const name = fn.name ?? obj.tool;
    return typeof name === 'string' ? { name, args: fn.arguments ?? fn.parameters ?? fn.args ?? obj.input } : undefined;
  });
  return calls.length && calls.every((c) => c) ? (calls as { name: string; args: unknown }[]) : undefined;
}

function xmlParameters(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const m of text.matchAll(/<parameter[= ]"?([\w.-]+)"?>\s*([\s\S]*?)\s*<\/parameter>/g)) args[m[1]] = m[2];
  return args;
}

/**
 * Streams text through, replacing tool-call markup with "▶ tool(args)" lines. Text that may start markup (a
 * backtick or `<` at the end of a chunk) is held until the next chunk decides; code fences in other languages
 * pass as they are.
 */
export class ToolMarkupFilter {
  private pending = '';
  private inCode = false;
  private atLineStart = true;
  /** A call line was written: the line break that ended its markup goes too. */
  private skipNewline = false;

  push(chunk: string): string {
    this.pending += chunk;
    let out = '';
    for (;;) {
      if (!this.dropNewline()) break;
      const step = this.inCode ? this.code() : this.text();
      if (step === undefined) break;
      out += this.emit(step);
    }
    return out;
  }

  /** The end of the stream: whatever is held, as the model wrote it (or as a call line when it is one). */
  flush(): string {
    let rest = this.pending;
    this.pending = '';
    this.inCode = false;
    this.skipNewline = false;
    const fence = /^```([\w-]*)[^\n]*\n?([\s\S]*)$/.exec(rest);
    const tag = OPEN_TAG.exec(rest);
    const calls = fence && CALL_FENCES.has(fence[1].toLowerCase()) ? parseCalls(fence[2]) : tag?.index === 0 ? parseCalls(rest.slice(tag[0].length)) : undefined;
    if (calls) rest = this.lines(calls);
    return this.emit(rest);
  }

  /** False while only blanks follow a call line (its line break may be in the next chunk). */
  private dropNewline(): boolean {
    if (!this.skipNewline) return true;
    const blanks = /^[ \t]*/.exec(this.pending)![0].length;
    if (blanks === this.pending.length) return false;
    if (this.pending[blanks] === '\n') this.pending = this.pending.slice(blanks + 1);
    this.skipNewline = false;
    return true;
  }

  private emit(text: string): string {
    if (text) this.atLineStart = text.endsWith('\n');
    return text;
  }

  /** Plain text: up to the next marker; undefined when nothing more can be decided yet. */
  private text(): string | undefined {
    const at = this.nextMarker();
    if (at === undefined) {
      // hold a possible marker start at the end ("`", "``", "<tool_c")
      const hold = this.partialMarkerAtEnd();
      const out = this.pending.slice(0, this.pending.length - hold);
      this.pending = this.pending.slice(out.length);
      return out || undefined;
    }
    if (at > 0) {
      const out = this.pending.slice(0, at);
      this.pending = this.pending.slice(at);
      return out;
    }
    return this.pending.startsWith('```') ? this.fence() : this.tag();
  }

  private nextMarker(): number | undefined {
    const fence = this.pending.indexOf('```');
    const tag = this.pending.search(OPEN_TAG);
    const found = [fence, tag].filter((i) => i >= 0);
    return found.length ? Math.min(...found) : undefined;
  }

  private partialMarkerAtEnd(): number {
    const tail = this.pending.slice(-20);
    for (let i = 0; i < tail.length; i++) {
      const rest = tail.slice(i);
      if (MARKERS.some((m) => rest.startsWith(m) || m.startsWith(rest))) {
        // `<` followed by a tag name in progress, or backticks
        if (rest.startsWith('<') && !/^<\/?[\w_]*$/.test(rest)) continue;
        if (rest.startsWith('`') && !/^`{1,2}$/.test(rest)) continue;
        return rest.length;
      }
    }
    return 0;
  }

  /** At "```": a call fence is held to its end and replaced; another fence opens a code block. */
  private fence(): string | undefined {
    const newline = this.pending.indexOf('\n');
    if (newline < 0) return this.holdOrGiveUp();
    const lang = this.pending.slice(3, newline).trim().split(/\s+/)[0].toLowerCase();
    if (!CALL_FENCES.has(lang)) {
      this.inCode = true;
      const out = this.pending.slice(0, newline + 1);
      this.pending = this.pending.slice(newline + 1);
      return out;
    }
    const close = this.pending.indexOf('```', newline + 1);
    if (close < 0) return this.holdOrGiveUp();
    const body = this.pending.slice(newline + 1, close);
    const whole = this.pending.slice(0, close + 3);
    this.pending = this.pending.slice(close + 3);
    return this.replaced(whole, parseCalls(body));
  }

  /** At an opening tag: held to its closing tag (or the next opening one) and replaced by the calls. */
  private tag(): string | undefined {
    const open = OPEN_TAG.exec(this.pending)!;
    const after = this.pending.slice(open[0].length);
    const close = after.search(/<\/(tool_calls?|tools?|toolcall|function_calls?|tool_use)>/i);
    if (close < 0) return this.holdOrGiveUp();
    const body = after.slice(0, close);
    const end = open[0].length + close + after.slice(close).indexOf('>') + 1;
    const whole = this.pending.slice(0, end);
    this.pending = this.pending.slice(end);
    return this.replaced(whole, parseCalls(body));
  }

  /** Inside a code fence of another language: through its closing fence. */
  private code(): string | undefined {
    const close = this.pending.indexOf('```');
    if (close < 0) {
      const hold = /`{1,2}$/.exec(this.pending)?.[0].length ?? 0;
      const out = this.pending.slice(0, this.pending.length - hold);
      this.pending = this.pending.slice(out.length);
      return out || undefined;
    }
    this.inCode = false;
    const out = this.pending.slice(0, close + 3);
    this.pending = this.pending.slice(close + 3);
    return out;
  }

  private holdOrGiveUp(): string | undefined {
    if (this.pending.length <= MAX_CALL_CHARS) return undefined;
    // too long to be a call: show it, and read on after its marker
    const out = this.pending.slice(0, 3);
    this.pending = this.pending.slice(3);
    return out;
  }

  /** The markup as written, or its call lines (the line break after it goes with it). */
  private replaced(whole: string, calls: { name: string; args: unknown }[] | undefined): string {
    if (!calls) return whole;
    this.skipNewline = true;
    return this.lines(calls);
  }

  private lines(calls: { name: string; args: unknown }[]): string {
    const lines = calls.map((c) => toolLine(c.name, c.args)).join('\n');
    return `${this.atLineStart ? '' : '\n'}${lines}\n`;
  }
}

/** One run's text in the model output channel: a heading, the filtered stream, and the whole text kept. */
export class Transcript {
  private readonly filters = new Map<string, ToolMarkupFilter>();
  /** Everything written (the self-test reads it); the last 200,000 characters. */
  written = '';

  constructor(private readonly sink: (text: string) => void) {}

  begin(title: string): void {
    this.write(`${this.written && !this.written.endsWith('\n') ? '\n' : ''}━━ ${cut(title.split('\n')[0], 100)} ━━\n`);
  }

  /** A `smallcode/stream` notification {runId, text, done}. */
  stream(params: { runId?: string; text?: string; done?: boolean }): void {
    const id = params.runId ?? '';
    let filter = this.filters.get(id);
    if (!filter) {
      filter = new ToolMarkupFilter();
      this.filters.set(id, filter);
    }
    if (params.text) this.write(filter.push(params.text));
    if (params.done) {
      this.write(filter.flush());
      if (this.written && !this.written.endsWith('\n')) this.write('\n');
      this.filters.delete(id);
    }
  }

  private write(text: string): void {
    if (!text) return;
    this.sink(text);
    this.written = (this.written + text).slice(-200_000);
  }
}
