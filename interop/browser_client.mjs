// make interop: a real browser (Debian's headless Chromium, driven by playwright-core) against wsexec.
// Usage: node interop/browser_client.mjs ECHO_URL SERVE_URL
// The WebSocket code runs inside a blank page served from 127.0.0.1 (a page from a loopback origin
// may open loopback WebSockets without Chromium's Local Network Access prompt; about:blank may not),
// through the browser's own WebSocket API,
// which has no way to send fragments or pings: those checks are covered by the other clients.
// Prints one "PASS chromium ..." or "FAIL chromium ..." line per check; exits 1 if any failed.
import { launchChromium } from './chromium.mjs';
import { createServer } from 'node:http';

const [echoUrl, serveUrl] = process.argv.slice(2);
let failures = 0;

function check(name, ok, detail = '') {
    console.log(`${ok ? 'PASS' : 'FAIL'} chromium ${name}${ok ? '' : ': ' + detail}`);
    if (!ok) failures++;
}

// The page: an empty HTML document on an ephemeral loopback port, stopped at the end.
const pageServer = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><title>wsexec interop</title>');
});
await new Promise((resolve) => pageServer.listen(Number(process.env.PAGE_PORT || 0), '127.0.0.1', resolve));
const pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;

let browser;
let context;
try {
    browser = await launchChromium('interop');
    context = browser.context;
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(pageUrl);
    page.setDefaultTimeout(30000);

    // Everything below runs in the page; it returns a list of [name, ok, detail].
    const results = await page.evaluate(async ({ echoUrl, serveUrl }) => {
        const results = [];
        const check = (name, ok, detail = '') => results.push([name, !!ok, String(detail)]);
        const withTimeout = (promise, what) => Promise.race([promise,
            new Promise((_, reject) => setTimeout(() => reject(new Error(what + ' timed out')), 20000))]);
        const open = (url) => withTimeout(new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            ws.binaryType = 'arraybuffer';
            ws.onopen = () => resolve(ws);
            ws.onerror = () => reject(new Error('cannot connect to ' + url));
        }), 'connect');
        const next = (ws) => withTimeout(new Promise((resolve, reject) => {
            ws.onmessage = (e) => resolve(e.data);
            ws.onclose = (e) => reject(new Error('closed with ' + e.code));
        }), 'message');
        const closed = (ws) => withTimeout(new Promise((resolve) => { ws.onclose = (e) => resolve(e); }), 'close');
        const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
        const attempt = async (name, fn) => { try { await fn(); } catch (e) { check(name, false, e.message); } };

        await attempt('echo connection', async () => {
            const ws = await open(echoUrl + 'chromium');
            await attempt('echo text', async () => {
                const reply = next(ws);
                ws.send('hello κόσμε 🚀');
                const data = await reply;
                check('echo text', data === 'hello κόσμε 🚀', data);
            });
            await attempt('echo binary', async () => {
                const sent = Uint8Array.from({ length: 256 }, (_, i) => i);
                const reply = next(ws);
                ws.send(sent);
                const data = await reply;
                check('echo binary', data instanceof ArrayBuffer && same(new Uint8Array(data), sent));
            });
            await attempt('echo 1 MiB', async () => {
                const sent = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) % 251);
                const reply = next(ws);
                ws.send(sent);
                const data = await reply;
                check('echo 1 MiB', data instanceof ArrayBuffer && same(new Uint8Array(data), sent), data.byteLength);
            });
            await attempt('echo 1 MiB text', async () => {
                const sent = 'κόσμε 🚀 '.repeat(1 << 16); // 1 MiB of UTF-8 exactly
                const reply = next(ws);
                ws.send(sent);
                const data = await reply;
                check('echo 1 MiB text', data === sent, data.length);
            });
            await attempt('echo close 1000 (client side)', async () => {
                const done = closed(ws);
                ws.close(1000, 'chromium done');
                const e = await done;
                check('echo close 1000 (client side)', e.code === 1000 && e.wasClean, `code ${e.code}, wasClean ${e.wasClean}`);
            });
        });

        await attempt('serve connection', async () => {
            const ws = await open(serveUrl);
            await attempt('serve exec output and exit code', async () => {
                let out = '';
                const exit = withTimeout(new Promise((resolve, reject) => {
                    ws.onmessage = (e) => {
                        const event = JSON.parse(e.data);
                        if (event.id !== 'chromium') return;
                        if (event.type === 'output' && event.stream === 'stdout') out += event.data ?? '';
                        else if (event.type === 'exit') resolve(event.code);
                        else if (event.type === 'error') reject(new Error(e.data));
                    };
                }), 'exec');
                ws.send(JSON.stringify({ type: 'exec', id: 'chromium', command: 'echo from-chromium; exit 5' }));
                const code = await exit;
                check('serve exec output and exit code', out === 'from-chromium\n' && code === 5, `output ${JSON.stringify(out)}, exit ${code}`);
            });
            await attempt('serve close 1000', async () => {
                const done = closed(ws);
                ws.close(1000);
                const e = await done;
                check('serve close 1000', e.code === 1000 && e.wasClean, `code ${e.code}, wasClean ${e.wasClean}`);
            });
        });
        return results;
    }, { echoUrl, serveUrl });
    for (const [name, ok, detail] of results) check(name, ok, detail);
    // The browser cannot send fragments or pings from script: say so rather than pass silently.
    console.log('SKIP chromium echo fragmented: the browser WebSocket API always sends whole messages');
    console.log('SKIP chromium echo ping: the browser WebSocket API cannot send pings');
} catch (e) {
    check('browser run', false, e.message.split('\n')[0]);
} finally {
    if (browser) await browser.close();
    pageServer.close();
}
process.exit(failures ? 1 : 0);
