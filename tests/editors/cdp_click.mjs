// Click a button of a VS Code notification in the page of a Chromium started with --remote-debugging-port=PORT,
// with real mouse events (Chrome DevTools Protocol), as a user would.
// Usage: node cdp_click.mjs PORT TEXT LABEL   (Node 22+: its built-in WebSocket)
// Clicks the button labelled LABEL in the notification toast whose text contains TEXT; waits up to 30 s for
// it; exits 1 with what the page shows when there is none, or when the button is still there after clicks.
import { connect, sleep } from './cdp.mjs';

const [port, text, label] = process.argv.slice(2);
const { send, close } = await connect(port);

// the button's centre in the page, or what the toasts say; `hit` is what a click there would land on
const locate = `(() => {
  const toasts = [...document.querySelectorAll('.notification-toast')];
  const toast = toasts.find((t) => t.textContent.includes(${JSON.stringify(text)}));
  if (!toast) return { seen: toasts.map((t) => t.textContent) };
  const button = [...toast.querySelectorAll('.monaco-button, .action-label')].find(
    (b) => b.textContent.trim() === ${JSON.stringify(label)} || b.getAttribute('aria-label') === ${JSON.stringify(label)});
  if (!button) return { seen: [toast.textContent], noButton: true };
  const r = button.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return { seen: [toast.textContent], hidden: true };
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const at = document.elementFromPoint(x, y);
  return { x, y, hit: !!at && (at === button || button.contains(at)), at: at ? at.outerHTML.slice(0, 200) : null };
})()`;
const where = async () => (await send('Runtime.evaluate', { expression: locate, returnByValue: true })).result.value;

// A toast slides in: click only where the button has stayed put, and on the button itself; click again when
// the toast is still there with its button afterwards (a click during the animation lands beside it).
let found;
let clicks = 0;
let clickedAt;
const end = Date.now() + 30000;
while (Date.now() < end) {
  found = await where();
  if (!found || found.x === undefined) {
    if (clicks > 0) break; // the button is gone: the click took
    await sleep(250);
    continue;
  }
  await sleep(300);
  const again = await where();
  if (!again || again.x !== found.x || again.y !== found.y || !again.hit) {
    found = again;
    continue;
  }
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: found.x, y: found.y, button: 'none' });
  for (const type of ['mousePressed', 'mouseReleased']) {
    await send('Input.dispatchMouseEvent', { type, x: found.x, y: found.y, button: 'left', clickCount: 1 });
  }
  clicks += 1;
  clickedAt = found;
  await sleep(1000);
}
if (clicks === 0) {
  console.error(`no "${label}" button to click in a notification saying "${text}": ${JSON.stringify(found)}`);
  process.exit(1);
}
const left = await where();
if (left && left.x !== undefined) {
  console.error(`clicked "${label}" ${clicks} times, and it is still there: ${JSON.stringify(left)}`);
  process.exit(1);
}
console.log(`clicked "${label}" at ${Math.round(clickedAt.x)},${Math.round(clickedAt.y)} (${clicks} click(s))`);
close();
