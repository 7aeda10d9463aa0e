// Capture the page shown by a Chromium started with --remote-debugging-port=PORT (Chrome DevTools Protocol).
// Usage: node cdp_screenshot.mjs PORT OUT.png [SELECTOR]   (Node 22+: its built-in WebSocket)
// With SELECTOR, waits (60 s) until the page shows an element matching it (captures the page all the same and
// exits 1 when it never does).
import { writeFileSync } from 'node:fs';
import { connect, sleep } from './cdp.mjs';

const [port, out, selector] = process.argv.slice(2);
const { send, close } = await connect(port);
if (selector) {
  const shown = `(() => { const el = document.querySelector(${JSON.stringify(selector)});
    return !!el && el.getBoundingClientRect().width > 0; })()`;
  const end = Date.now() + 60000;
  while (!(await send('Runtime.evaluate', { expression: shown, returnByValue: true })).result.value) {
    if (Date.now() > end) {
      const { data } = await send('Page.captureScreenshot', { format: 'png' });
      writeFileSync(out, Buffer.from(data, 'base64'));
      console.error(`the page never showed ${selector} (${out} shows what it did)`);
      process.exit(1);
    }
    await sleep(250);
  }
  await sleep(500); // let it finish drawing
}
const { data } = await send('Page.captureScreenshot', { format: 'png' });
writeFileSync(out, Buffer.from(data, 'base64'));
close();
