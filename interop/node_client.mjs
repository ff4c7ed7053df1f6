// make interop: Node's `ws` against wsexec.
// Usage: node interop/node_client.mjs ECHO_URL SERVE_URL
// Prints one "PASS node ..." or "FAIL node ..." line per check; exits 1 if any check failed.
import WebSocket from 'ws';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';

const [echoUrl, serveUrl] = process.argv.slice(2);
let failures = 0;

function check(name, ok, detail = '') {
    console.log(`${ok ? 'PASS' : 'FAIL'} node ${name}${ok ? '' : ': ' + detail}`);
    if (!ok) failures++;
}

/** Runs one check; a rejection or a 20 s timeout is a FAIL. */
async function step(name, fn) {
    let timer;
    try {
        await Promise.race([fn(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out')), 20000); })]);
    } catch (e) {
        check(name, false, String(e));
    } finally {
        clearTimeout(timer);
    }
}

function connect(url, perMessageDeflate = false) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 0 });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
    });
}

/** The next message as [data, isBinary]. */
function nextMessage(ws) {
    return new Promise((resolve, reject) => {
        ws.once('message', (data, isBinary) => resolve([data, isBinary]));
        ws.once('close', (code) => reject(new Error('closed with ' + code)));
    });
}

function closed(ws) {
    return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

async function echoChecks() {
    const ws = await connect(echoUrl + 'node');

    await step('echo text', async () => {
        const reply = nextMessage(ws);
        ws.send('hello κόσμε 🚀');
        const [data, isBinary] = await reply;
        check('echo text', !isBinary && data.toString() === 'hello κόσμε 🚀', data.toString());
    });

    await step('echo binary', async () => {
        const sent = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const reply = nextMessage(ws);
        ws.send(sent);
        const [data, isBinary] = await reply;
        check('echo binary', isBinary && sent.equals(data));
    });

    await step('echo 1 MiB', async () => {
        const sent = Buffer.alloc(1 << 20);
        for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) % 251;
        const reply = nextMessage(ws);
        ws.send(sent);
        const [data, isBinary] = await reply;
        check('echo 1 MiB', isBinary && sent.equals(data), `got ${data.length} bytes`);
    });

    await step('echo fragmented', async () => {
        // fin: false sends a frame that the next send continues (TEXT, then CONTINUATION frames).
        const reply = nextMessage(ws);
        ws.send('frag', { fin: false });
        ws.send('men', { fin: false });
        ws.send('', { fin: false });
        ws.send('ted κόσμε', { fin: true });
        const [data, isBinary] = await reply;
        check('echo fragmented', !isBinary && data.toString() === 'fragmented κόσμε', data.toString());
    });

    await step('echo ping', async () => {
        const pong = new Promise((resolve) => ws.once('pong', resolve));
        ws.ping('node-ping');
        const data = await pong;
        check('echo ping', data.toString() === 'node-ping', data.toString());
    });

    await step('echo close 1000 (client side)', async () => {
        const done = closed(ws);
        ws.close(1000, 'node done');
        const [code] = await done;
        check('echo close 1000 (client side)', code === 1000, 'close code ' + code);
    });
}

async function serveChecks() {
    const ws = await connect(serveUrl);
    await step('serve exec output and exit code', async () => {
        let out = '';
        const exit = new Promise((resolve, reject) => {
            ws.on('message', (data) => {
                const event = JSON.parse(data.toString());
                if (event.id !== 'node') return;
                if (event.type === 'output' && event.stream === 'stdout') out += event.data ?? '';
                else if (event.type === 'exit') resolve(event.code);
                else if (event.type === 'error') reject(new Error(JSON.stringify(event)));
            });
        });
        ws.send(JSON.stringify({ type: 'exec', id: 'node', command: 'echo from-node; exit 4' }));
        const code = await exit;
        check('serve exec output and exit code', out === 'from-node\n' && code === 4, `output ${JSON.stringify(out)}, exit ${code}`);
    });
    await step('serve close 1000', async () => {
        const done = closed(ws);
        ws.close(1000);
        const [code] = await done;
        check('serve close 1000', code === 1000, 'close code ' + code);
    });
}

/** RFC 7692: ws offers permessage-deflate by default ("permessage-deflate; client_max_window_bits"). */
async function deflateChecks() {
    const echo = await connect(echoUrl + 'node-deflate', true);
    check('deflate echo negotiated', echo.extensions.startsWith('permessage-deflate'), echo.extensions);
    await step('deflate echo text and binary', async () => {
        const text = Array.from({ length: 20000 }, (_, i) => `line ${i} κόσμε\n`).join('');
        let reply = nextMessage(echo);
        echo.send(text);
        let [data, isBinary] = await reply;
        const textOk = !isBinary && data.toString() === text;
        const sent = Buffer.alloc(1 << 20);
        for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) % 13;
        reply = nextMessage(echo);
        echo.send(sent);
        [data, isBinary] = await reply;
        check('deflate echo text and binary', textOk && isBinary && sent.equals(data), `text ${textOk}, binary ${data.length} bytes`);
    });
    await step('deflate echo close 1000', async () => {
        const done = closed(echo);
        echo.close(1000);
        const [code] = await done;
        check('deflate echo close 1000', code === 1000, 'close code ' + code);
    });

    const serve = await connect(serveUrl, true);
    check('deflate serve negotiated', serve.extensions.startsWith('permessage-deflate'), serve.extensions);
    await step('deflate serve seq 1 1000000 sha256', async () => {
        const hash = createHash('sha256');
        const exit = new Promise((resolve, reject) => {
            serve.on('message', (data) => {
                const event = JSON.parse(data.toString());
                if (event.type === 'output' && event.stream === 'stdout') hash.update(event.data ?? '', 'utf8');
                else if (event.type === 'exit') resolve(event.code);
                else if (event.type === 'error') reject(new Error(JSON.stringify(event)));
            });
        });
        serve.send(JSON.stringify({ type: 'exec', id: 'seq', command: 'seq 1 1000000' }));
        const code = await exit;
        const expected = createHash('sha256').update(execFileSync('seq', ['1', '1000000'], { maxBuffer: 1 << 24 })).digest('hex');
        check('deflate serve seq 1 1000000 sha256', code === 0 && hash.digest('hex') === expected, `exit ${code}`);
    });
    serve.close(1000);
}

await step('echo connection', echoChecks);
await step('serve connection', serveChecks);
await step('deflate connections', deflateChecks);
process.exit(failures ? 1 : 0);
