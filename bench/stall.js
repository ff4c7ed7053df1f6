#!/usr/bin/env node
// Does starting jobs hold up everyone else? Not part of `make bench` (it needs a minute of set-up
// per run); bench/README.md, "Fifth session", has the figures and the command.
//
//   node stall.js URL IDLE STARTERS SECONDS
//
// Opens IDLE connections that stay idle (each holds a descriptor in the server, which makes every
// process start slower), then for SECONDS keeps STARTERS clients running `true` one job after
// another, while a probe opens a new connection every 100 ms and runs `echo ok` on it. Prints one
// JSON line: jobs per second, and the probe's time to the handshake and to the `exit` event
// (median, 90th percentile, max). Speaks the wsexec protocol only.
'use strict';
const WebSocket = require('ws');

const [url, idleN, starters, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
if (!url || !(idleN >= 0) || !(starters >= 1) || !(seconds > 0)) {
    console.error('usage: node stall.js URL IDLE STARTERS SECONDS');
    process.exit(2);
}
const now = () => Number(process.hrtime.bigint()) / 1e6;
const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
});
// Runs cmd as job `id` on ws; resolves with its exit code.
const run = (ws, id, cmd) => new Promise((resolve, reject) => {
    const onMessage = (data) => {
        const m = JSON.parse(data);
        if (m.id !== id) return;
        if (m.type === 'exit') { ws.off('message', onMessage); resolve(m.code); }
        else if (m.type === 'error') { ws.off('message', onMessage); reject(new Error(m.message)); }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'exec', id, command: cmd }));
});
const quantile = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1));
};
const summary = (values) => ({ median: quantile(values, 0.5), p90: quantile(values, 0.9), max: Number(Math.max(...values).toFixed(1)) });

(async () => {
    const idle = [];
    for (let i = 0; i < idleN; i += 50) {
        idle.push(...await Promise.all(Array.from({ length: Math.min(50, idleN - i) }, open)));
    }
    const end = now() + seconds * 1000;
    let jobs = 0;
    const loops = Array.from({ length: starters }, async (_, k) => {
        const ws = await open();
        for (let i = 0; now() < end; i++) {
            if (await run(ws, `s${k}-${i}`, 'true') !== 0) throw new Error('`true` failed');
            jobs++;
        }
        ws.close();
    });
    const handshakes = [];
    const roundTrips = [];
    const probe = (async () => {
        while (now() < end) {
            const t0 = now();
            const ws = await open();
            handshakes.push(now() - t0);
            if (await run(ws, 'probe', 'echo ok') !== 0) throw new Error('`echo ok` failed');
            roundTrips.push(now() - t0);
            ws.close();
            await new Promise((r) => setTimeout(r, 100));
        }
    })();
    await Promise.all([...loops, probe]);
    console.log(JSON.stringify({ idle: idleN, starters, jobsPerSecond: Number((jobs / seconds).toFixed(1)), probes: handshakes.length,
        handshakeMs: summary(handshakes), echoOkMs: summary(roundTrips) }));
    idle.forEach((ws) => ws.close());
    setTimeout(() => process.exit(0), 200);
})().catch((e) => { console.error(e.message); process.exit(1); });
