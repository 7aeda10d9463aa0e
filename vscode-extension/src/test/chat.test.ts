import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatPageHtml, Conversation, conversationHtml, isViewMessage } from '../chat';

test('streamed text, tool markup as a line, tool steps updated in place, then the rest of the answer', () => {
  const chat = new Conversation();
  chat.begin('what does add do?');
  assert.ok(chat.running);
  chat.stream({ text: 'Let me look.\n```json\n{"name": "read_file", "arguments": ' });
  chat.stream({ text: '{"path": "calc.py"}}\n```\n' });
  chat.step({ kind: 'tool', id: 1, name: 'read_file', label: 'read_file(calc.py)', state: 'running' });
  let html = conversationHtml(chat);
  assert.match(html, /<span class="call">▶ read_file\(calc\.py\)\n<\/span>/);
  assert.match(html, /class="step tool running"><span class="mark">…<\/span> read_file\(calc.py\)/);
  assert.match(html, /working…/);
  chat.step({ kind: 'tool', id: 1, name: 'read_file', label: 'read_file(calc.py)', state: 'ok', ms: 12.4 });
  chat.step({ kind: 'check', text: 'checks passed: 3 passing' });
  chat.stream({ text: 'It adds.' });
  chat.stream({ done: true });
  chat.end({ ok: true, text: 'It adds.\nverified: 3 passing', data: { response: 'It adds.' } });
  assert.ok(!chat.running);
  html = conversationHtml(chat);
  assert.equal((html.match(/class="step tool/g) ?? []).length, 1, html); // one step, now done
  assert.match(html, /class="step tool ok"><span class="mark">✓<\/span> read_file\(calc.py\) <span class="muted">12 ms/);
  assert.match(html, /class="step note check">checks passed: 3 passing/);
  assert.match(html, /<div class="answer ok"><p>verified: 3 passing<\/p>\n<\/div>/);
  assert.ok(!html.includes('```') && !html.includes('"name"'));
});

test('the answer leaves out what the stream or a check step already showed', () => {
  const chat = new Conversation();
  chat.begin('q');
  chat.stream({ text: 'Only add is wrong.' });
  chat.step({ kind: 'check', text: 'not verified: no tests found for this project' });
  chat.end({ ok: true, text: 'Only add is wrong.\nnot verified: no tests found for this project', data: { response: 'Only add is wrong.' } });
  const html = conversationHtml(chat);
  assert.equal(html.split('not verified').length, 2, html); // once, as the step
  assert.ok(!html.includes('class="answer'), html); // nothing left to say
});

test('an answer that was not streamed is shown whole; a failure shows its error', () => {
  const chat = new Conversation();
  chat.begin('q');
  chat.end({ ok: true, text: 'The answer.', data: { response: 'The answer.' } });
  assert.match(conversationHtml(chat), /<div class="answer ok"><p>The answer.<\/p>\n<\/div>/);
  chat.begin('again');
  chat.step({ kind: 'tool', id: 2, name: 'bash', label: 'bash(pytest)', state: 'running' });
  chat.step({ kind: 'tool', id: 2, name: 'bash', label: 'bash(pytest)', state: 'failed', error: 'exit 1' });
  chat.end({ ok: false, text: '', error: 'cancelled' });
  const html = conversationHtml(chat);
  assert.match(html, /class="step tool failed"><span class="mark">✗<\/span> bash\(pytest\)<div class="error">exit 1/);
  assert.match(html, /<div class="answer failed"><p>cancelled<\/p>\n<\/div>/);
  assert.equal(chat.turns.length, 2);
  // stopped in the review: the reply's text, not its short error
  chat.begin('third');
  chat.end({ ok: false, text: 'Stopped: you ended the run in the review.', error: 'stopped in the review' });
  assert.match(conversationHtml(chat), /<div class="answer failed"><p>Stopped: you ended the run in the review.<\/p>/);
});

test("the model's text is Markdown: code blocks, inline code and lists; tool lines stay lines", () => {
  const chat = new Conversation();
  chat.begin('fix add');
  chat.stream({ text: 'The bug is in `add`:\n\n- it subtracts\n- it should add\n\ncalc.py\n```python\ndef add(a, b):\n' });
  // while the block is still streaming it shows as code already
  assert.match(conversationHtml(chat), /<pre><code class="language-python">def add\(a, b\):\n<\/code><\/pre>/);
  chat.stream({ text: '    return a + b  # a < b & c\n▶ not a call inside code\n```\n▶ read_file(calc.py)\nDone **now**.' });
  chat.stream({ done: true });
  chat.end({ ok: true, text: 'Fixed `add`.' });
  const html = conversationHtml(chat);
  assert.match(html, /<p>The bug is in <code>add<\/code>:<\/p>/);
  assert.match(html, /<ul>\n<li>it subtracts<\/li>\n<li>it should add<\/li>\n<\/ul>/);
  assert.match(html, /return a \+ b  # a &lt; b &amp; c\n▶ not a call inside code\n<\/code><\/pre>/);
  assert.match(html, /<span class="call">▶ read_file\(calc\.py\)\n<\/span><p>Done <strong>now<\/strong>.<\/p>/);
  assert.match(html, /<div class="answer ok"><p>Fixed <code>add<\/code>.<\/p>/);
});

test('Markdown from the model cannot inject HTML or script links', () => {
  const chat = new Conversation();
  chat.begin('q');
  chat.stream({ text: '[click](javascript:alert(1)) <img src=x onerror=alert(1)> [docs](https://example.com)\n' });
  chat.end({ ok: true, text: '<script>alert(2)</script>' });
  const html = conversationHtml(chat);
  assert.ok(!/<(img|script)[ >]/.test(html), html);
  assert.ok(!html.includes('href="javascript:'), html);
  assert.match(html, /<a href="https:\/\/example.com">docs<\/a>/);
  assert.match(html, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
});

test('notifications outside a run are dropped; clear empties the conversation', () => {
  const chat = new Conversation();
  chat.stream({ text: 'stray' });
  chat.step({ kind: 'status', text: 'loading' });
  assert.equal(chat.turns.length, 0);
  assert.match(conversationHtml(chat), /Ask SmallCode/);
  chat.begin('x');
  chat.clear();
  assert.equal(chat.turns.length, 0);
});

test('model and user text is escaped', () => {
  const chat = new Conversation();
  chat.begin('<img src=x onerror=alert(1)>');
  chat.stream({ text: '<script>alert(1)</script> & "q"' });
  chat.step({ kind: 'tool', id: 1, label: '<b>x</b>', state: 'ok' });
  chat.step({ kind: 'review', text: '<i>y</i>' });
  chat.end({ ok: true, text: '<u>z</u>' });
  const html = conversationHtml(chat);
  assert.ok(!/<(img|script|b|i|u)[ >]/.test(html), html);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;q&quot;/);
});

test('the page allows only its own script and styles (nonce), no remote content', () => {
  const page = chatPageHtml('abc123', 'vscode-webview://x', '<p>log</p>');
  const csp = /content="([^"]+)"/.exec(page)![1];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
  assert.ok(!/https?:/.test(page));
  assert.equal((page.match(/<script nonce="abc123">/g) ?? []).length, (page.match(/<script/g) ?? []).length);
  assert.ok(page.includes('<div id="log"><p>log</p></div>'));
});

test('only known messages from the webview are acted on', () => {
  assert.ok(isViewMessage({ type: 'send', text: 'hi' }));
  assert.ok(isViewMessage({ type: 'stop' }));
  assert.ok(!isViewMessage({ type: 'send' }));
  assert.ok(!isViewMessage({ type: 'eval', code: '1' }));
  assert.ok(!isViewMessage('send'));
});
