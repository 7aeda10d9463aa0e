import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerMarkdown, budgetHtml, escapeHtml, jsonToHtml, modelRows, pageHtml, sessionRows, statusText, traceHtml, traceRows } from '../render';

test('escapeHtml escapes markup', () => {
  assert.equal(escapeHtml('<a href="x">&</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
});

test('jsonToHtml renders objects as rows and arrays of objects as one table', () => {
  const html = jsonToHtml({ runs: 2, per_tool: { patch: { calls: 3 } }, notes: [{ id: 1, text: '<b>' }] });
  assert.match(html, /<th>Runs<\/th><td>2<\/td>/);
  assert.match(html, /<th>Id<\/th><th>Text<\/th>/);
  assert.match(html, /&lt;b&gt;/);
  assert.doesNotMatch(html, /<b>/);
});

test('budgetHtml shows the used share and one bar segment per part', () => {
  const html = budgetHtml({ window: 8192, system: 1000, task: 100, history: 0, tool_results: 0, reserve: 2048, free: 5044, used: 1100 });
  assert.match(html, /1,100<\/b> of <b>8,192<\/b> tokens used \(13%\)/);
  assert.equal((html.match(/class="seg"/g) ?? []).length, 4);
});

test('traceHtml lists turns and tool calls', () => {
  const html = traceHtml({
    id: 't1',
    entries: [
      { type: 'turn', n: 1, ms: 20, calls: [{ name: 'read_file' }], usage: { total_tokens: 50 } },
      { type: 'tool', name: 'read_file', ok: true, ms: 2 },
      { type: 'run_end', result: { success: true } },
    ],
  });
  assert.match(html, /turn 1<\/th><td>read_file/);
  assert.match(html, /success/);
  assert.match(traceHtml({ traces: [] }), /no traces yet/);
});

test('pageHtml has a strict content security policy and the failure text', () => {
  const html = pageHtml('stats', { data: {}, text: 'nope', ok: false }, 'abc');
  assert.match(html, /default-src 'none'/);
  assert.match(html, /class="failed">nope/);
});

test('quick-pick rows for models, sessions and traces', () => {
  assert.deepEqual(modelRows({ model: 'b', available: ['a', 'b'] }), [
    { label: 'a', description: undefined, value: 'a' },
    { label: 'b', description: 'current', value: 'b' },
  ]);
  assert.equal(modelRows({ model: 'x', available: [] })[0].value, 'x');
  const sessions = sessionRows({ current: 's2', sessions: [{ id: 's2', messages: 4, task: 'fix it' }] });
  assert.equal(sessions[0].description, 's2 · current');
  assert.equal(traceRows({ traces: [{ id: 't', task: '', success: false, turns: 2 }] })[0].description, 't · failed');
});

test('statusText shows the model, the budget and the run state', () => {
  assert.deepEqual(statusText({ model: 'qwen', used: 1500, window: 8192, running: false }), {
    text: '$(hubot) qwen',
    detail: '1.5k/8.2k tokens · idle',
  });
  assert.match(statusText({ running: true }).detail, /running/);
  assert.equal(statusText({ running: false }).text, '$(hubot) embedded model');
});

test('answerMarkdown keeps the whole answer (no cut), the failure and the edits', () => {
  const long = 'A '.repeat(400) + '\nsecond line';
  const md = answerMarkdown('fix the bug\nmore', { ok: true, text: long, data: { edits: [{ path: 'calc.py', status: 'applied' }] } });
  assert.ok(md.startsWith('# fix the bug\n\n'));
  assert.ok(md.includes(long));
  assert.match(md, /## Changes\n\n- `calc.py` — applied/);
  const failed = answerMarkdown(undefined, { ok: false, text: 'cancelled', error: 'cancelled', data: {} });
  assert.equal(failed, '# SmallCode\n\n**Not done:** cancelled\n');
});
