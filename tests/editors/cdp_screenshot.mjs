// Capture the page shown by a Chromium started with --remote-debugging-port=PORT (Chrome DevTools Protocol).
// Usage: node cdp_screenshot.mjs PORT OUT.png   (Node 22+: its built-in WebSocket)
import { writeFileSync } from 'node:fs';

const [port, out] = process.argv.slice(2);
const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = pages.find((p) => p.type === 'page');
if (!page) throw new Error('no page to capture');
const socket = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = reject;
});
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.id !== 1) return;
  if (message.error) throw new Error(message.error.message);
  writeFileSync(out, Buffer.from(message.result.data, 'base64'));
  socket.close();
};
socket.send(JSON.stringify({ id: 1, method: 'Page.captureScreenshot', params: { format: 'png' } }));
