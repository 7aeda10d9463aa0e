import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cut, parseCalls, shortNotice, toolLine, ToolMarkupFilter, Transcript } from '../transcript';

/** The filter's output when the text arrives in chunks of `size` characters (and at once). */
function filtered(text: string, size: number): string {
  const filter = new ToolMarkupFilter();
  let out = '';
  for (let i = 0; i < text.length; i += size) out += filter.push(text.slice(i, i + size));
  return out + filter.flush();
}

function everyChunking(text: string): string {
  const results = new Set([1, 2, 3, 5, 7, 16, text.length].map((size) => filtered(text, size)));
  assert.equal(results.size, 1, `chunking changes the output: ${[...results].join(' | ')}`);
  return [...results][0];
}

test('a fenced JSON tool call becomes one line, whatever the chunking', () => {
  const text = 'Let me read it.\n```json\n{"name": "read_file", "arguments": {"path": "calc.py"}}\n```\nFixed add.\n';
  assert.equal(everyChunking(text), 'Let me read it.\n▶ read_file(calc.py)\nFixed add.\n');
});

test('<tool_call> tags (JSON or Qwen XML inside) become lines', () => {
  const json = 'ok <tool_call>\n{"name": "bash", "arguments": {"command": "pytest -q"}}\n</tool_call>\ndone';
  assert.equal(everyChunking(json), 'ok \n▶ bash(pytest -q)\ndone');
  const xml = '<tool_call>\n<function=write_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call>\n';
  assert.equal(everyChunking(xml), '▶ write_file(a.py)\n');
});

test('code fences in other languages and JSON that is not a call pass unchanged', () => {
  const code = 'Here:\n```python\ndef f():\n    return "<tool_call>"\n```\nand `x` < y.\n';
  assert.equal(everyChunking(code), code);
  const data = 'Config:\n```json\n{"port": 8080}\n```\nend\n';
  assert.equal(everyChunking(data), data);
});

test('a call cut short at the end of the stream is still a line, never raw markup', () => {
  assert.equal(filtered('```json\n{"name": "patch", "arguments": {"path": "a.py", "sea', 4), '▶ patch()\n');
});

test('toolLine shows the main argument or the arguments, on one line and cut', () => {
  assert.equal(toolLine('read_file', { path: 'src/a.py' }), '▶ read_file(src/a.py)');
  assert.equal(toolLine('bash', '{"command": "ls\\n-la"}'), '▶ bash(ls -la)');
  assert.equal(toolLine('todo', { items: [1] }), '▶ todo({"items":[1]})');
  assert.equal(toolLine('x', {}), '▶ x()');
  assert.ok(toolLine('bash', { command: 'word '.repeat(40) }).length <= 70);
});

test('parseCalls reads OpenAI-style and array forms, not other JSON', () => {
  assert.deepEqual(parseCalls('{"function": {"name": "a", "arguments": "{}"}}'), [{ name: 'a', args: '{}' }]);
  assert.deepEqual(parseCalls('[{"name": "a"}, {"name": "b", "parameters": {"x": 1}}]')?.map((c) => c.name), ['a', 'b']);
  assert.equal(parseCalls('{"port": 1}'), undefined);
  assert.equal(parseCalls('[1, 2]'), undefined);
});

test('shortNotice: the first line, cut at a word', () => {
  assert.equal(shortNotice('\n\nFixed add.\nMore text'), 'Fixed add.');
  const long = shortNotice('word '.repeat(100), 50);
  assert.ok(long.length <= 50 && long.endsWith('…') && !long.includes('wor…'), long);
  assert.equal(cut('short', 10), 'short');
});

test('Transcript: a heading per run, each run filtered on its own, a final line break', () => {
  const out: string[] = [];
  const transcript = new Transcript((t) => out.push(t));
  transcript.begin('fix the bug\nsecond line');
  transcript.stream({ runId: 'r1', text: 'Reading.\n```json\n{"name": "read_file", ' });
  transcript.stream({ runId: 'r1', text: '"arguments": {"path": "a.py"}}\n```\nDone' });
  transcript.stream({ runId: 'r1', text: '', done: true });
  assert.equal(out.join(''), '━━ fix the bug ━━\nReading.\n▶ read_file(a.py)\nDone\n');
  assert.equal(transcript.written, out.join(''));
});
