// Use a webview view (the SmallCode chat) in the page of a Chromium started with --remote-debugging-port=PORT,
// as a user would: real mouse and keyboard events over the Chrome DevTools Protocol.
// Usage: node cdp_webview.mjs PORT send TEXT      click the view's message box, type TEXT, press Enter
//        node cdp_webview.mjs PORT click SELECTOR click the view's element SELECTOR (#stop, #new) once enabled
//        node cdp_webview.mjs PORT read WAITFOR   wait (60 s) until the view's log shows WAITFOR and no run goes
//                                                 on (Send enabled); print the log's text and HTML as JSON
// (Node 22+: its built-in WebSocket). code-server serves webviews from its own origin, so the page reaches
// into the view's frames to find where things are; the input itself goes through the browser.
import { connect, sleep } from './cdp.mjs';

const [port, action, arg] = process.argv.slice(2);
const { send, close } = await connect(port);

// the view's document (the webview's inner frame holding #prompt) and its offset in the page
const view = `(() => {
  for (const outer of document.querySelectorAll('iframe')) {
    let doc;
    try { doc = outer.contentDocument; } catch { continue; }
    for (const inner of doc ? doc.querySelectorAll('iframe') : []) {
      let d;
      try { d = inner.contentDocument; } catch { continue; }
      if (!d || !d.querySelector('#prompt')) continue;
      const a = outer.getBoundingClientRect(), b = inner.getBoundingClientRect();
      return { doc: d, x: a.left + b.left, y: a.top + b.top };
    }
  }
  return undefined;
})()`;
const evaluate = async (body) =>
  (await send('Runtime.evaluate', { expression: `(() => { const v = ${view}; ${body} })()`, returnByValue: true })).result.value;

const end = Date.now() + 60000;

/** Click the centre of `selector` once it is there and `ready` (an expression over `el` and `v`) holds. */
async function click(selector, ready) {
  let at;
  while (Date.now() < end) {
    at = await evaluate(`if (!v) return undefined;
      const el = v.doc.querySelector(${JSON.stringify(selector)});
      if (!el) return { missing: true };
      const r = el.getBoundingClientRect();
      return { x: v.x + r.left + r.width / 2, y: v.y + r.top + r.height / 2, ready: ${ready} };`);
    if (at && at.ready) break;
    await sleep(250);
  }
  if (!at || !at.ready) {
    console.error(`nothing to click at ${selector} in the chat view: ${JSON.stringify(at)}`);
    process.exit(1);
  }
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: at.x, y: at.y, button: 'none' });
  for (const type of ['mousePressed', 'mouseReleased']) {
    await send('Input.dispatchMouseEvent', { type, x: at.x, y: at.y, button: 'left', clickCount: 1 });
  }
  return at;
}

if (action === 'click') {
  const at = await click(arg, '!el.disabled');
  console.log(`clicked ${arg} at ${Math.round(at.x)},${Math.round(at.y)}`);
} else if (action === 'send') {
  await click('#prompt', "!v.doc.querySelector('#send').disabled");
  await sleep(200);
  await send('Input.insertText', { text: arg });
  const typed = await evaluate(`return v && v.doc.querySelector('#prompt').value;`);
  if (typed !== arg) {
    console.error(`typed ${JSON.stringify(arg)}, the box holds ${JSON.stringify(typed)}`);
    process.exit(1);
  }
  const enter = { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
  await send('Input.dispatchKeyEvent', { type: 'keyDown', ...enter, text: '\r' });
  await send('Input.dispatchKeyEvent', { type: 'keyUp', ...enter });
  console.log(`sent ${JSON.stringify(arg)}`);
} else if (action === 'read') {
  let seen;
  while (Date.now() < end) {
    seen = await evaluate(`if (!v) return undefined;
      const log = v.doc.querySelector('#log');
      return { text: log.innerText, html: log.innerHTML, sendDisabled: v.doc.querySelector('#send').disabled,
               stopDisabled: v.doc.querySelector('#stop').disabled };`);
    if (seen && seen.text.includes(arg) && !seen.sendDisabled) break;
    await sleep(250);
  }
  if (!seen || !seen.text.includes(arg) || seen.sendDisabled) {
    console.error(`the chat view never showed ${JSON.stringify(arg)}: ${JSON.stringify(seen)}`);
    process.exit(1);
  }
  console.log(JSON.stringify(seen));
} else {
  console.error(`unknown action ${action}`);
  process.exit(2);
}
close();
