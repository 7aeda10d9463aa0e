// The Chrome DevTools Protocol to the page of a Chromium started with --remote-debugging-port=PORT, shared by
// the cdp_*.mjs scripts (Node 22+: its built-in WebSocket).

/** Connect to the browser's page: `send(method, params)` resolves with the command's result. */
export async function connect(port) {
  const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = pages.find((p) => p.type === 'page');
  if (!page) throw new Error('no page in the browser');
  const socket = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 0;
  const waiting = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const done = waiting.get(message.id);
    if (!done) return;
    waiting.delete(message.id);
    if (message.error) done.reject(new Error(message.error.message));
    else done.resolve(message.result);
  };
  function send(method, params) {
    const id = ++nextId;
    socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
  }
  return { send, close: () => socket.close() };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
