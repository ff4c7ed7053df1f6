#!/usr/bin/env node
// The one neutral client of the benchmark: the same code measures every server.
// It speaks each server's own protocol (an adapter per server) but consumes the
// output the same way: sha256 of every byte, newline count, last line, exit code.
//
//   node client.js stream   PROTO URL CMD        W1/W3: prints {"ms","firstMs","bytes","lines","last","sha256","code",…}
//   node client.js latency  PROTO URL CMD        W2: each line is "i monotonic_ns"; prints delay median/p99 in ms
//   node client.js idle     PROTO URL CMD N      W4: N connections each run CMD and stay open; prints READY,
//                                                then on stdin "probe K" (K new connections running CMD,
//                                                a second apart, while the N stay open: prints PROBED)
//                                                and "close" (closes all, prints CLOSED)
//   node client.js startup  PROTO URL -- SERVER… W5: launches SERVER, prints ms to the first accepted handshake
//
// PROTO: pipe (no server: the client runs CMD itself and reads its stdout through a pipe, the limit),
//        wsexec (JSON output events, the protocol's default, as the console and most clients get them),
//        wsexec-binary (the same server, exec with "binary":true: output in binary frames; less server
//        CPU, but measured slower through this Node client: bench/README.md),
//        wsexec-kept (exec with "keep" and "binary": the output goes through the job's log, issue #19),
//        wsexec-replay (the same job run to its end untimed first; then the timed run is a second
//        connection attaching from the start: the replay of a finished log),
//        raw (binary frames of output, then a text {"exit":N}: the small Node and Python peers),
//        tcp (no WebSocket: bench/peers/tcp_relay.py, W2's yardstick for one loopback TCP hop),
//        websocketd (one text message per line, then a marker line from the wrapper), socketio (the original).
'use strict';
const crypto = require('crypto');
const { spawn } = require('child_process');
const net = require('net');
const WebSocket = require('ws');

const EXIT_MARKER = '__wsbench_exit__ ';
const now = () => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, ms

// One job on one connection: calls onData(Buffer|string) for stdout, onExit(code) at the end.
function job(proto, url, cmd, onData, onExit, onError) {
    if (proto === 'pipe') {
        const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.on('data', onData);
        child.on('close', (code) => onExit(code));
        child.on('error', onError);
        return { close() {} };
    }
    if (proto === 'tcp') { // bench/peers/tcp_relay.py: the command as a line, then its bytes; a reset for a non-zero exit
        const { hostname, port } = new URL(url);
        const socket = net.connect({ host: hostname, port: Number(port) }, () => {
            socket.setNoDelay(true);
            socket.write(cmd + '\n');
        });
        let failed = false;
        socket.on('data', onData);
        socket.on('error', (e) => { failed = true; onError(e); });
        socket.on('close', () => { if (!failed) onExit(0); });
        return { close() { socket.destroy(); } };
    }
    const target = proto === 'socketio' ? url.replace(/\/?$/, '/socket.io/?EIO=4&transport=websocket') : url;
    // Like a browser, the client always offers permessage-deflate; each server decides.
    const ws = new WebSocket(target, { perMessageDeflate: true, maxPayload: 256 * 1024 * 1024 });
    let done = false;
    const exit = (code) => { if (!done) { done = true; onExit(code); } };
    ws.on('error', (e) => { if (!done) { done = true; onError(e); } });
    ws.on('close', () => { if (!done) { done = true; onError(new Error('connection closed before exit')); } });
    ws.on('open', () => {
        if (proto === 'wsexec') ws.send(JSON.stringify({ type: 'exec', id: '1', command: cmd }));
        else if (proto === 'wsexec-binary') ws.send(JSON.stringify({ type: 'exec', id: '1', command: cmd, binary: true }));
        else if (proto === 'wsexec-kept') ws.send(JSON.stringify({ type: 'exec', id: '1', command: cmd, binary: true, keep: '600s' }));
        else if (proto === 'wsexec-kept-json') ws.send(JSON.stringify({ type: 'exec', id: '1', command: cmd, keep: '600s' }));
        else if (proto === 'wsexec-attach') ws.send(JSON.stringify({ type: 'attach', id: '1', job: cmd, from: 'start', binary: true, readOnly: true }));
        else if (proto === 'raw' || proto === 'websocketd') ws.send(cmd);
        // socketio: wait for the Engine.IO open packet
    });
    ws.on('message', (data, isBinary) => {
        if (done) return;
        switch (proto) {
            case 'wsexec':
            case 'wsexec-binary':
            case 'wsexec-kept':
            case 'wsexec-kept-json':
            case 'wsexec-attach': {
                if (isBinary) {
                    // binary output (docs/PROTOCOL.md): stream byte (1 stdout, 2 stderr), id length, id, bytes
                    const start = 2 + data[1];
                    if (data[0] === 1 && data.toString('utf8', 2, start) === '1') onData(data.subarray(start));
                    break;
                }
                const m = JSON.parse(data);
                if (m.type === 'started' && m.job) ws.keptJob = m.job;
                if (m.type === 'output') {
                    if (m.stream === 'stdout') onData(m.data !== undefined ? m.data : Buffer.from(m.base64, 'base64'));
                } else if (m.type === 'exit') exit(m.code);
                else if (m.type === 'error') onError(new Error(m.message));
                break;
            }
            case 'raw':
                if (isBinary) onData(data);
                else exit(JSON.parse(data).exit);
                break;
            case 'websocketd': {
                const line = data.toString();
                if (line.startsWith(EXIT_MARKER)) exit(Number(line.slice(EXIT_MARKER.length)));
                else onData(line + '\n'); // websocketd sends each line without its newline
                break;
            }
            case 'socketio': {
                const p = data.toString();
                if (p[0] === '0') ws.send('40'); // Engine.IO open -> connect to the default namespace
                else if (p === '2') ws.send('3'); // ping -> pong
                else if (p.startsWith('40')) ws.send('42' + JSON.stringify(['exec', cmd]));
                else if (p.startsWith('42')) {
                    const [name, body] = JSON.parse(p.slice(2));
                    // the original splits each chunk on /\r\n|\n/ into an array; joining gives the chunk back (less \r)
                    if (name === 'response') onData(body.data.join('\n'));
                    else if (name === 'exit') exit(body.data);
                }
                break;
            }
            default:
                throw new Error('unknown protocol ' + proto);
        }
    });
    return ws;
}

// Before a timed stream, the client does once what the timed run will do, against nothing that is
// measured: a WebSocket connection (same options, one message each way) to a server inside this
// process, or for the pipe a spawn of `true`. A fresh Node process otherwise spends ~11 ms of its
// own start-up (loading and compiling its http and ws code) inside the first connection, the same
// for every server, which the pipe row does not pay: the stream rows are to measure the transport,
// from the connect on (bench/README.md, "Sixth session").
function warmUp(proto, done) {
    if (proto === 'pipe') {
        spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' }).on('close', () => done());
        return;
    }
    const server = new WebSocket.Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false }, () => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/`, { perMessageDeflate: true });
        ws.on('open', () => ws.send('warm'));
        ws.on('message', () => { ws.terminate(); server.close(() => done()); });
    });
    server.on('connection', (peer) => peer.on('message', (m) => peer.send(m)));
}

function stream(proto, url, cmd) {
    if (proto === 'wsexec-replay') {
        // Untimed: run the job kept to its end; timed: a new connection replaying its log from the start.
        warmUp(proto, () => {
            const ws = job('wsexec-kept', url, cmd, () => {}, () => { const id = ws.keptJob; ws.close(); timedStream('wsexec-attach', url, id); }, fail);
        });
        return;
    }
    warmUp(proto, () => timedStream(proto, url, cmd));
}

function timedStream(proto, url, cmd) {
    const hash = crypto.createHash('sha256');
    let bytes = 0, lines = 0, chunks = 0, tail = Buffer.alloc(0), firstMs;
    const start = now();
    const ws = job(proto, url, cmd, (chunk) => {
        if (firstMs === undefined) firstMs = now() - start;
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        hash.update(buf);
        bytes += buf.length;
        chunks++;
        for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
        tail = buf.length >= 256 ? buf.subarray(buf.length - 256) : Buffer.concat([tail, buf]).subarray(-256);
    }, (code) => {
        const ms = now() - start;
        const text = tail.toString('latin1').replace(/\n$/, '');
        const last = text.slice(text.lastIndexOf('\n') + 1);
        console.log(JSON.stringify({ ms, firstMs, bytes, lines, last, sha256: hash.digest('hex'), code, chunks, extensions: ws.extensions || '' }));
        ws.close();
        setTimeout(() => process.exit(0), 50).unref();
    }, fail);
}

function latency(proto, url, cmd) {
    const delays = [];
    let partial = '';
    const start = now();
    const ws = job(proto, url, cmd, (chunk) => {
        const t = Number(process.hrtime.bigint());
        const text = partial + chunk.toString();
        const parts = text.split('\n');
        partial = parts.pop();
        for (const line of parts) {
            const stamp = Number(line.split(' ')[1]);
            if (stamp > 0) delays.push((t - stamp) / 1e6);
        }
    }, (code) => {
        delays.sort((a, b) => a - b);
        const q = (p) => delays[Math.min(delays.length - 1, Math.ceil(p * delays.length) - 1)];
        console.log(JSON.stringify({ ms: now() - start, lines: delays.length, code, median: q(0.5), p99: q(0.99), max: delays[delays.length - 1] }));
        ws.close();
        setTimeout(() => process.exit(0), 50).unref();
    }, fail);
}

// W4: open n connections (at most `window` being set up at once); each runs cmd once and stays open.
// Prints READY once all are set up, then reads commands on stdin, one a line:
//   probe K   K times, a second apart: a fresh connection (handshake, cmd, exit event) while all n
//             stay open; prints PROBED {"ms":[…],"median","max","failed","firstError"}
//   close     closes all n; prints CLOSED
function idle(proto, url, cmd, n, window = 50) {
    const sockets = [];
    let started = 0, ok = 0, failed = 0, firstError = null;
    const start = now();
    const deadline = Number(process.env.IDLE_DEADLINE_MS || 120000);
    const closeAll = () => {
        let open = sockets.filter((s) => s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING);
        let left = open.length;
        if (left === 0) { console.log('CLOSED'); process.exit(0); }
        for (const s of open) {
            s.once('close', () => { if (--left === 0) { console.log('CLOSED'); process.exit(0); } });
            s.close();
        }
        setTimeout(() => { console.log('CLOSED (timeout, ' + left + ' left)'); process.exit(0); }, 15000);
    };
    const report = () => {
        console.log('READY ' + JSON.stringify({ ok, failed, ms: now() - start, firstError }));
        let pending = '';
        process.stdin.on('data', (d) => {
            pending += d;
            let i;
            while ((i = pending.indexOf('\n')) >= 0) {
                const [word, count] = pending.slice(0, i).trim().split(/\s+/);
                pending = pending.slice(i + 1);
                if (word === 'probe') probes(proto, url, cmd, Number(count || 5));
                else if (word === 'close') closeAll();
            }
        });
    };
    const timer = setTimeout(() => { failed += n - ok - failed; firstError = firstError || 'deadline'; report(); }, deadline);
    const next = () => {
        if (started >= n) return;
        started++;
        let output = '';
        const ws = job(proto, url, cmd, (chunk) => { output += chunk.toString(); }, (code) => {
            if (code === 0 && output.trim() === 'ok') ok++; else { failed++; firstError = firstError || 'exit ' + code + ' output ' + JSON.stringify(output); }
            settle();
        }, (e) => { failed++; firstError = firstError || String(e.message || e); settle(); });
        sockets.push(ws);
    };
    const settle = () => {
        if (ok + failed === n) { clearTimeout(timer); report(); return; }
        next();
    };
    for (let i = 0; i < Math.min(window, n); i++) next();
}

// W4's second question: is a new client still answered while the n are open? k probes, one a second:
// each a new connection from the handshake to the exit event of cmd (its output checked), then closed.
function probes(proto, url, cmd, k) {
    const ms = [];
    let failed = 0, firstError = null;
    const one = () => {
        const begin = now();
        let output = '', settled = false;
        const done = (error) => {
            if (settled) return;
            settled = true;
            clearTimeout(limit);
            if (error) { failed++; firstError = firstError || error; } else ms.push(now() - begin);
            ws.close();
            if (ms.length + failed < k) setTimeout(one, 1000);
            else {
                const sorted = [...ms].sort((a, b) => a - b);
                const median = sorted.length ? (sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2) : null;
                console.log('PROBED ' + JSON.stringify({ ms, median, max: sorted.length ? sorted[sorted.length - 1] : null, failed, firstError }));
            }
        };
        const limit = setTimeout(() => done('no exit within 10 s'), 10000);
        const ws = job(proto, url, cmd, (chunk) => { output += chunk.toString(); },
            (code) => done(code === 0 && output.trim() === 'ok' ? null : 'exit ' + code + ' output ' + JSON.stringify(output)),
            (e) => done(String(e.message || e)));
    };
    one();
}

// W5: launch a server and try again and again until it accepts a WebSocket handshake. A try is a
// bare TCP connect, which costs little when it is refused: the probe must not take the CPU that the
// starting server needs (on this 2-core machine a `ws` client per millisecond did, and added tens of
// ms to every server's figure). Once a connection is accepted, the opening handshake (RFC 6455 §4.1)
// goes out on it, and the time is taken when a valid 101 with the right Sec-WebSocket-Accept arrives.
function startup(proto, url, server) {
    const start = now();
    const child = spawn(server[0], server.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    const target = new URL(proto === 'socketio' ? url.replace(/\/?$/, '/socket.io/?EIO=4&transport=websocket') : url);
    const key = crypto.randomBytes(16).toString('base64');
    const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    const request = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n`
        + `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const stop = () => {
        try { process.kill(-child.pid, 'SIGTERM'); } catch (e) { /* gone */ }
        setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ } process.exit(0); }, 300);
    };
    const attempt = () => {
        let settled = false, head = '';
        const socket = net.connect({ host: target.hostname, port: Number(target.port) });
        const retry = () => {
            if (settled) return;
            settled = true;
            socket.destroy();
            if (now() - start > 20000) fail(new Error('no handshake in 20 s'));
            else setTimeout(attempt, 1);
        };
        socket.setNoDelay(true);
        socket.on('connect', () => socket.write(request));
        socket.on('data', (d) => {
            head += d.toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end < 0 || settled) return;
            const lines = head.slice(0, end).split('\r\n');
            const ok = /^HTTP\/1\.1 101\b/.test(lines[0])
                && lines.some((l) => /^sec-websocket-accept:/i.test(l) && l.slice(l.indexOf(':') + 1).trim() === accept);
            if (!ok) { retry(); return; }
            settled = true;
            const ms = now() - start;
            socket.destroy();
            console.log(JSON.stringify({ ms }));
            stop();
        });
        socket.on('error', retry);
        socket.on('close', retry);
    };
    attempt();
}

function fail(e) {
    console.log(JSON.stringify({ error: String(e && e.message || e) }));
    process.exit(1);
}

const [mode, proto, url, ...rest] = process.argv.slice(2);
switch (mode) {
    case 'stream': stream(proto, url, rest[0]); break;
    case 'latency': latency(proto, url, rest[0]); break;
    case 'idle': idle(proto, url, rest[0], Number(rest[1])); break;
    case 'startup': startup(proto, url, rest[0] === '--' ? rest.slice(1) : rest); break;
    default: console.error('usage: client.js stream|latency|idle|startup PROTO URL …'); process.exit(2);
}
