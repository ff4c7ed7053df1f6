#!/usr/bin/env node
// Runs the workloads of bench/README.md against every server with the one neutral client
// (client.js), checks every run, and writes one table to bench/results/. Started by bench.sh,
// which installs what it needs first. BENCH_QUICK=1: small sizes, one run (a smoke test only).
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync, execFileSync } = require('child_process');

const BENCH = __dirname;
const ROOT = path.dirname(BENCH);
const WORK = path.join(BENCH, 'work');
const JAVA = process.env.JAVA;
const JAR = path.join(ROOT, 'build', 'wsexec.jar');
// The start-up cache build.sh made for the server ('wsexec') or the client ('wsexec-run'), chosen as the
// build/wsexec launcher does: the AOT cache (JDK 25+), else the class-data-sharing archive (JDK 21-24),
// and only one newer than the jar. { opts, label } or null.
function startupCache(name) {
    const jarTime = fs.statSync(JAR).mtimeMs;
    for (const [ext, flag] of [['aot', '-XX:AOTCache='], ['jsa', '-XX:SharedArchiveFile=']]) {
        const file = path.join(ROOT, 'build', `${name}.${ext}`);
        if (fs.existsSync(file) && fs.statSync(file).mtimeMs > jarTime) return { opts: [flag + file], label: `${flag}build/${name}.${ext}` };
    }
    return null;
}
const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS || (QUICK ? 1 : 5));
const SLOW_RUNS = Number(process.env.BENCH_SLOW_RUNS || 1); // websocketd on W1-10M, see below
const SLOW_RUNS_W1_W3 = Number(process.env.BENCH_SLOW_RUNS_W1_W3 || 3); // websocketd on W1 and W3
const W1_N = QUICK ? 100000 : 1000000;
const W1BIG_N = QUICK ? 300000 : 10000000;
const W3_BYTES = QUICK ? 5000000 : 50000000;
const W2_LINES = QUICK ? 50 : 200;
const W4_CONNS = Number(process.env.BENCH_W4 || (QUICK ? 200 : 5000));
// wsexec's W4 also at 1,000 and 10,000 (issue #21: 10,000 connections on this 2-core machine).
const W4_WSEXEC = process.env.BENCH_W4_WSEXEC ? process.env.BENCH_W4_WSEXEC.split(',').map(Number) : (QUICK ? [200] : [1000, 5000, 10000]);
// Every W4 connection starts a process; on this 2-core VM a process start costs several ms of CPU,
// so setting up 5,000 takes a minute or more. The deadline is for hung servers, not a target.
const W4_DEADLINE_MS = Number(process.env.BENCH_W4_DEADLINE_MS || 240000);
// Issue #21: "a new client is still answered within 1 s while 10k are open". With all W4 connections
// open (after their RSS is read), this many new connections, a second apart, each run `echo ok`.
const W4_PROBES = Number(process.env.BENCH_W4_PROBES || (QUICK ? 2 : 5));
// The original example sends every job's output to every connection (io.sockets.emit), so W4 fails
// for it whatever the time given, and each new job costs it more: 60 s shows that and saves three minutes.
const W4_SOCKETIO_DEADLINE_MS = Number(process.env.BENCH_W4_SOCKETIO_DEADLINE_MS || 60000);
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null; // server names
const WORKLOADS = process.env.BENCH_WORKLOADS ? process.env.BENCH_WORKLOADS.split(',') : ['W1', 'W1-10M', 'W3', 'W2', 'W4', 'W5', 'W6'];
const began = Date.now();
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[bench ${((Date.now() - began) / 1000).toFixed(0)}s]`, ...a);

// The wsexec server is started as build/wsexec starts it: java [start-up cache] -jar build/wsexec.jar serve.
// The server's JVM options, as the launcher (build/wsexec serve) passes them: build.sh's
// SERVER_JVM_OPTS (collector and young generation) and the start-up cache.
const SERVER_OPTS = spawnSync(path.join(ROOT, 'build.sh'), ['--print-server-opts'], { encoding: 'utf8' }).stdout.trim().split(' ').filter(Boolean);
const javaOpts = () => (process.env.WSEXEC_JAVA_OPTS !== undefined
    ? process.env.WSEXEC_JAVA_OPTS.split(' ').filter(Boolean)
    : [...SERVER_OPTS, ...(startupCache('wsexec') || { opts: [] }).opts]);
// serve requires a token, as it does for every user: the bench gives it one from a file and puts it in
// the client's URL (a browser's way; the header would cost the same).
const TOKEN = crypto.randomBytes(24).toString('base64url');
const TOKEN_FILE = path.join(WORK, 'token');
fs.mkdirSync(WORK, { recursive: true });
fs.writeFileSync(TOKEN_FILE, TOKEN, { mode: 0o600 });
const urlFor = (proto, port) => `ws://127.0.0.1:${port}/` + (proto.startsWith('wsexec') ? `?token=${TOKEN}` : '');
// The client offers permessage-deflate to every server, as a browser does; wsexec accepts it by default
// since issue #20. The rows that measure the transport as before say --deflate off (the baseline jar has
// no such flag, and no deflate); the -deflate rows turn it on.
// A start-up cache fits only the jar it was made for: the baseline jar runs without one.
const wsexecServe = (port, extra = [], jar = JAR) => [JAVA, ...(jar === JAR ? javaOpts() : SERVER_OPTS), '-jar', jar, 'serve', '--port', String(port), '--quiet', '--token-file', TOKEN_FILE,
    '--max-connections', '20000', '--max-connections-per-address', '20000', '--max-jobs', '20000',
    ...(jar === JAR && !extra.includes('--deflate') ? ['--deflate', 'off'] : []), ...extra];
// BENCH_BASELINE_JAR=path: rows for an earlier build beside this one, in the same run (an earlier
// release's jar, e.g. built from its commit with ./build.sh): "within noise of before" is then one table.
const BASELINE_JAR = process.env.BENCH_BASELINE_JAR;

const SERVERS = [
    { name: 'pipe', label: 'local pipe (same client, no server)', proto: 'pipe' },
    { name: 'pipe-lb', label: 'local pipe, command under `stdbuf -oL -eL` (what wsexec does by default)', proto: 'pipe', wrap: (c) => `stdbuf -oL -eL sh -c '${c.replace(/'/g, "'\\''")}'` },
    // W2's yardstick for anything that relays: the same pipe with one more process reading and
    // writing it. Every server adds this hop (one more wake-up and copy); the row shows what it costs
    // on this machine in the same run.
    { name: 'pipe-relay', label: 'local pipe through one relay process (`cat`): the hop every server adds', proto: 'pipe', wrap: (c) => `${c} | cat`, only: ['W2'] },
    // ... and the same hop over one loopback TCP connection, with no WebSocket and no protocol: the
    // least any server that a client reaches over TCP can do for a line on this machine.
    { name: 'pipe-tcp', label: 'local pipe carried over one loopback TCP connection (a bare Python relay, no WebSocket): the hop plus TCP', proto: 'tcp', cmd: (p) => ['/usr/bin/python3', path.join(BENCH, 'peers/tcp_relay.py'), String(p), 'tcp'], only: ['W2'] },
    // ... and over the least WebSocket server there can be (the same relay, each read one binary frame),
    // read by the same `ws` client as every server: the floor of the WebSocket rows below.
    { name: 'pipe-ws', label: 'local pipe carried as WebSocket frames by the same bare relay (handshake, one frame per read, nothing else)', proto: 'raw', cmd: (p) => ['/usr/bin/python3', path.join(BENCH, 'peers/tcp_relay.py'), String(p), 'ws'], only: ['W2'] },
    { name: 'wsexec', label: 'wsexec (default: stdbuf -oL)', proto: 'wsexec', cmd: (p) => wsexecServe(p) },
    // --no-line-buffer differs only in the environment of its jobs: the default row is enough for W4 and W5.
    { name: 'wsexec-nolb', label: 'wsexec --no-line-buffer', proto: 'wsexec', cmd: (p) => wsexecServe(p, ['--no-line-buffer']), only: ['W1', 'W1-10M', 'W3', 'W2'] },
    // The same server asked for binary output frames ("binary":true, as `wsexec run` asks): the bytes as
    // read, no JSON for the client to decode. Bulk workloads only: it changes nothing for W2, W4, W5.
    { name: 'wsexec-binary', label: 'wsexec --no-line-buffer, binary output frames (`"binary":true`, as `wsexec run` uses)', proto: 'wsexec-binary', cmd: (p) => wsexecServe(p, ['--no-line-buffer']), only: ['W1', 'W1-10M', 'W3'] },
    // Issue #19: the same exec kept ("keep"): the output goes through the job's log, then the socket. Beside
    // wsexec-binary it shows what the log costs (the default --keep-buffer, 8 MiB a stream: every run's
    // job stays kept, and with a 128 MiB buffer the heap of six finished W3 jobs made the collector, not
    // the log, the cost); the replay row is a second connection reading the log of the finished job from
    // the start (the job run once, untimed, just before), with room for all 64 MiB of W3 in memory.
    { name: 'wsexec-kept', label: 'wsexec --no-line-buffer, binary, kept job (`"keep"`: through the job\'s log)', proto: 'wsexec-kept', cmd: (p) => wsexecServe(p, ['--no-line-buffer']), only: ['W1', 'W3'] },
    // The same kept exec with --keep-buffer 64KiB: every byte still goes through the log, but the log
    // keeps only its last 64 KiB, so its memory is reused from the first read on. Beside wsexec-kept it
    // splits what the log costs into its own work (this row) and the fresh memory the default 8 MiB
    // buffer must take for each new job's output (FreshMemoryFloor, printed below the table).
    { name: 'wsexec-kept-warm', label: 'wsexec --no-line-buffer, binary, kept job with `--keep-buffer 64KiB` (through the log, its memory reused)', proto: 'wsexec-kept', cmd: (p) => wsexecServe(p, ['--no-line-buffer', '--keep-buffer', '64KiB']), only: ['W1', 'W3'] },
    { name: 'wsexec-kept-json', label: 'wsexec (default: stdbuf -oL, JSON output events), kept job (`"keep"`: through the job\'s log)', proto: 'wsexec-kept-json', cmd: (p) => wsexecServe(p), only: ['W1', 'W3'] },
    { name: 'wsexec-replay', label: 'wsexec: the finished kept job replayed from its log (attach from start, binary)', proto: 'wsexec-replay', cmd: (p) => wsexecServe(p, ['--no-line-buffer', '--keep-buffer', '128MiB']), only: ['W1', 'W3'] },
    ...(BASELINE_JAR ? [
        { name: 'wsexec-baseline', label: `wsexec (default), baseline jar ${path.basename(path.dirname(BASELINE_JAR))}/${path.basename(BASELINE_JAR)}`, proto: 'wsexec', cmd: (p) => wsexecServe(p, [], BASELINE_JAR), only: ['W1', 'W3'] },
        { name: 'wsexec-binary-baseline', label: 'wsexec --no-line-buffer, binary, baseline jar', proto: 'wsexec-binary', cmd: (p) => wsexecServe(p, ['--no-line-buffer'], BASELINE_JAR), only: ['W1', 'W3'] },
    ] : []),
    // Issue #20: permessage-deflate (level 6, the default) with binary output frames, beside Node ws with
    // deflate on; the floor row (the pipe plus Deflater alone on the same bytes) is added after the runs.
    { name: 'wsexec-deflate', label: 'wsexec --no-line-buffer, binary output frames, permessage-deflate on (level 6)', proto: 'wsexec-binary', cmd: (p) => wsexecServe(p, ['--no-line-buffer', '--deflate', 'on']), only: ['W1', 'W3'] },
    // W4's floor (issue #21): a bare JVM WebSocket server, one virtual thread per connection parked in a
    // 256-byte read, nothing else, with the wsexec server's JVM options (bench/java/wsexec/IdleFloor.java).
    { name: 'idle-floor', label: 'floor: the least JVM server (handshake, one answer, a virtual thread in a 256-byte read; same JVM options)', proto: 'raw', cmd: (p) => [JAVA, ...SERVER_OPTS, '-cp', path.join(ROOT, 'build', 'bench-classes'), 'wsexec.IdleFloor', String(p)], only: ['W4'] },
    { name: 'node-ws', label: 'Node ws + spawn', proto: 'raw', cmd: (p) => ['node', path.join(BENCH, 'peers/node-ws-server.js'), String(p)] },
    { name: 'node-ws-deflate', label: 'Node ws + spawn, permessage-deflate on (ws defaults)', proto: 'raw', cmd: (p) => ['node', path.join(BENCH, 'peers/node-ws-server.js'), String(p), 'deflate'], only: ['W1', 'W3'] },
    { name: 'python', label: 'Python websockets, deflate off', proto: 'raw', cmd: (p) => ['/usr/bin/python3', path.join(BENCH, 'peers/python_server.py'), String(p), 'off'] },
    { name: 'python-deflate', label: 'Python websockets, deflate on', proto: 'raw', cmd: (p) => ['/usr/bin/python3', path.join(BENCH, 'peers/python_server.py'), String(p), 'deflate'] },
    { name: 'websocketd', label: 'websocketd 0.4.1', proto: 'websocketd', cmd: (p) => ['websocketd', '--port=' + p, '--address=127.0.0.1', '--loglevel=error', path.join(BENCH, 'peers/websocketd-wrapper.sh')] },
    { name: 'socketio', label: 'original socket.io example', proto: 'socketio', cmd: (p) => ['node', path.join(BENCH, 'peers/socketio-original.js'), String(p)] },
].filter((s) => !ONLY || s.name.startsWith('pipe') || ONLY.includes(s.name));
// Whether a server gets a row for workload w: the workload is asked for, and the server is not
// limited (`only`) to others.
const wanted = (server, w) => WORKLOADS.includes(w) && (!server.only || server.only.includes(w));

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
        srv.on('error', reject);
    });
}

async function waitForPort(port, ms = 20000) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        const ok = await new Promise((r) => {
            const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
            s.on('error', () => r(false));
        });
        if (ok) return;
        await sleep(20);
    }
    throw new Error('server did not listen on ' + port);
}

async function startServer(server) {
    const port = await freePort();
    const argv = server.cmd(port);
    const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    await waitForPort(port);
    return { proc, port, url: urlFor(server.proto, port) };
}

async function stopServer(s) {
    if (!s) return;
    const gone = new Promise((r) => s.proc.once('exit', r));
    try { process.kill(-s.proc.pid, 'SIGTERM'); } catch (e) { return; }
    const t = setTimeout(() => { try { process.kill(-s.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 5000);
    await gone;
    clearTimeout(t);
}

const status = (pid, field) => {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm'));
    return m ? Number(m[1]) : NaN;
};
const cpuMs = (pid) => { // utime + stime of the server process itself (not the commands it runs)
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 1000 / 100; // clock ticks, USER_HZ = 100
};
const resetPeak = (pid) => { try { fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch (e) { return false; } };

function client(args, timeoutMs = 600000) {
    const r = spawnSync('node', [path.join(BENCH, 'client.js'), ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20 });
    const line = (r.stdout || '').trim().split('\n').pop();
    try { return JSON.parse(line); } catch (e) { return { error: 'client: ' + (r.error ? r.error.message : (r.stderr || line || 'no output').slice(0, 200)) }; }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

// ---- workloads -------------------------------------------------------------------------------

const sh = (cmd) => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim();
function expectSeq(n) { return { lines: n, last: String(n), sha256: sh(`seq 1 ${n} | sha256sum`).split(' ')[0], bytes: Number(sh(`seq 1 ${n} | wc -c`)) }; }
const RANDOM = path.join(WORK, `random-${W3_BYTES}.bin`);
function expectW3() {
    return { sha256: sh(`base64 ${RANDOM} | sha256sum`).split(' ')[0], lines: Number(sh(`base64 ${RANDOM} | wc -l`)), last: sh(`base64 ${RANDOM} | tail -n 1`) };
}

function check(r, want) {
    if (r.error) return r.error;
    if (r.code !== 0) return `exit code ${r.code}`;
    if (want.lines !== undefined && r.lines !== want.lines) return `${r.lines} of ${want.lines} lines`;
    if (want.last !== undefined && r.last !== want.last) return `last line ${JSON.stringify(r.last)}`;
    if (want.sha256 && r.sha256 !== want.sha256) return 'sha256 differs';
    return null;
}

function runStream(server, s, workload, cmd, want, runs) {
    const results = [];
    const pid = s && s.proc.pid;
    const cpu0 = pid ? cpuMs(pid) : 0;
    const peakReset = pid && workload === 'W1-10M' ? resetPeak(pid) : false;
    const rssBefore = pid ? status(pid, 'VmRSS') : 0;
    for (let i = 0; i < runs; i++) {
        const r = client(['stream', server.proto, s ? s.url : '-', server.wrap ? server.wrap(cmd) : cmd]);
        r.failure = check(r, want);
        results.push(r);
        log(`${workload} ${server.name} run ${i + 1}: ${r.failure ? 'FAIL ' + r.failure : r.ms.toFixed(1) + ' ms'}`);
        if (r.failure && r.ms === undefined) break;
    }
    const row = { workload, server: server.name, label: server.label, runs: results };
    if (pid) {
        const mb = results.reduce((a, r) => a + (r.bytes || 0), 0) / 1e6;
        row.cpuMsPerMB = mb > 0 ? (cpuMs(pid) - cpu0) / mb : NaN;
        if (peakReset) row.peakRssAboveIdleMB = (status(pid, 'VmHWM') - rssBefore) / 1024;
    }
    return row;
}

function runLatency(server, s, cmd, runs) {
    const results = [];
    for (let i = 0; i < runs; i++) {
        const r = client(['latency', server.proto, s ? s.url : '-', server.wrap ? server.wrap(cmd) : cmd]);
        r.failure = r.error || (r.code !== 0 ? `exit code ${r.code}` : r.lines !== W2_LINES ? `${r.lines} of ${W2_LINES} lines` : null);
        results.push(r);
        log(`W2 ${server.name} run ${i + 1}: ${r.failure ? 'FAIL ' + r.failure : r.median.toFixed(3) + ' / ' + r.p99.toFixed(3) + ' ms'}`);
    }
    return { workload: 'W2', server: server.name, label: server.label, runs: results };
}

async function runIdle(server, conns = W4_CONNS) {
    const s = await startServer(server);
    const pid = s.proc.pid;
    try {
        // one connection first, so that what every server sets up once is in the idle figure
        const warm = client(['stream', server.proto, s.url, 'echo ok']);
        await sleep(1000);
        const idleKB = status(pid, 'VmRSS');
        const c = spawn('node', [path.join(BENCH, 'client.js'), 'idle', server.proto, s.url, 'echo ok', String(conns)],
            { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, IDLE_DEADLINE_MS: QUICK ? '30000' : String(server.name === 'socketio' ? W4_SOCKETIO_DEADLINE_MS : Math.round(W4_DEADLINE_MS * Math.max(1, conns / 5000))) } });
        let out = '';
        const waitFor = (word) => new Promise((resolve) => {
            const on = () => { if (out.includes(word)) { c.stdout.off('data', feed); resolve(); } };
            const feed = (d) => { out += d; on(); };
            c.stdout.on('data', feed);
            c.once('exit', () => resolve());
            on();
        });
        await waitFor('READY');
        const ready = JSON.parse((out.match(/READY (.*)/) || [, '{"ok":0,"failed":-1}'])[1]);
        await sleep(1000);
        const openKB = status(pid, 'VmRSS');
        // Then, with all still open (and after the RSS was read): a new client's echo ok, W4_PROBES times.
        let probe = null;
        if (ready.ok > 0 && W4_PROBES > 0) {
            c.stdin.write(`probe ${W4_PROBES}\n`);
            await waitFor('PROBED');
            probe = JSON.parse((out.match(/PROBED (.*)/) || [, 'null'])[1]);
        }
        c.stdin.write('close\n');
        await waitFor('CLOSED');
        let afterKB = Infinity;
        for (let i = 0; i < 10; i++) { await sleep(500); afterKB = Math.min(afterKB, status(pid, 'VmRSS')); }
        c.kill();
        const failure = warm.error ? 'warm-up: ' + warm.error : ready.failed ? `${ready.failed} of ${conns} failed (${ready.firstError})`
            : probe && probe.failed ? `${probe.failed} of ${W4_PROBES} new-client probes failed (${probe.firstError})` : null;
        log(`W4 ${server.name} ${conns}: idle ${idleKB} kB, open ${openKB} kB (${ready.ok} ok), after close ${afterKB} kB`
            + (probe ? `, new client's round trip ${probe.ms.map((x) => x.toFixed(1)).join(' ')} ms` : '') + (failure ? ' FAIL ' + failure : ''));
        return { workload: 'W4', server: server.name, label: server.label, conns, idleKB, openKB, afterKB, ok: ready.ok, setupMs: ready.ms, failure,
            perConnKB: (openKB - idleKB) / Math.max(1, ready.ok), probe };
    } finally {
        await stopServer(s);
    }
}

async function runStartup(server, label, argvFor, runs) {
    const results = [];
    for (let i = 0; i < runs; i++) {
        const port = await freePort();
        const r = client(['startup', server.proto, urlFor(server.proto, port), '--', ...argvFor(port)]);
        r.failure = r.error || null;
        results.push(r);
        log(`W5 ${label} run ${i + 1}: ${r.failure ? 'FAIL ' + r.failure : r.ms.toFixed(1) + ' ms'}`);
        await sleep(300);
    }
    return { workload: 'W5', server: server.name, label, runs: results };
}

// `runs` times: java ARGS, start to exit. A run fails when java exits non-zero.
function timeJava(args, runs, label) {
    const results = [];
    for (let i = 0; i < runs; i++) {
        const t0 = now();
        const r = spawnSync(JAVA, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const ms = now() - t0;
        results.push({ ms, failure: r.status === 0 ? null : `exit ${r.status}: ${(r.stderr || '').trim()}` });
        log(`W5 ${label} ${i + 1}: ${ms.toFixed(1)} ms${r.status === 0 ? '' : ' FAIL exit ' + r.status}`);
    }
    return results;
}

// W5's floor for a Java server: the same JVM, options, cache and jar, running `wsexec version`
// (main prints one line and returns: no socket, no thread). What the server row shows above it is
// the server's own start-up.
function runJvmAlone(opts, runs) {
    const label = 'the JVM alone: the same `java` command running `wsexec version` instead of `serve` (start to exit)';
    return { workload: 'W5', server: 'jvm', label, runs: timeJava([...opts, '-jar', JAR, 'version'], runs, label) };
}

// W6 (issue #22): `wsexec run --on` of W1 over three instances on this machine, against the same three
// runs one after another (the sum of three single runs, each its own JVM, as a script would do it).
// Every output line is checked: "NAME: N", each host's numbers complete and in order, no line cut.
async function runOnThree(runs) {
    const names = ['a', 'b', 'c'];
    const servers = [];
    for (const name of names) {
        servers.push(await startServer({ proto: 'wsexec', cmd: (p) => wsexecServe(p, ['--no-line-buffer', '--instance', name]) }));
    }
    const cache = startupCache('wsexec-run');
    const opts = cache ? cache.opts : [];
    const cmd = `seq 1 ${W1_N}`;
    const outFile = path.join(WORK, 'run-on.out');
    const timeRun = (args) => {
        const fd = fs.openSync(outFile, 'w');
        const t0 = now();
        const r = spawnSync(JAVA, [...opts, '-jar', JAR, 'run', ...args, '--', cmd], { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
        const ms = now() - t0;
        fs.closeSync(fd);
        return { ms, status: r.status, stderr: (r.stderr || '').trim() };
    };
    const checkPrefixed = () => {
        const next = { a: 1, b: 1, c: 1 };
        for (const line of fs.readFileSync(outFile, 'utf8').split('\n')) {
            if (line === '') continue;
            const m = /^([abc]): (\d+)$/.exec(line);
            if (!m) return `a line cut or mixed: ${JSON.stringify(line.slice(0, 80))}`;
            if (Number(m[2]) !== next[m[1]]) return `host ${m[1]}: ${m[2]} where ${next[m[1]]} was due`;
            next[m[1]]++;
        }
        return names.every((n) => next[n] === W1_N + 1) ? null : `incomplete: ${JSON.stringify(next)}`;
    };
    const hostsByName = names.map((n, i) => `127.0.0.1:${servers[i].port}`);
    const on = [], serial = [];
    try {
        const urls = servers.flatMap((x) => ['--url', x.url]);
        timeRun(urls); // warm-up, not counted
        for (let i = 0; i < runs; i++) {
            const r = timeRun(urls);
            // with several --url the hosts are named by address: map them back to a, b, c for the check
            let text = fs.readFileSync(outFile, 'utf8');
            hostsByName.forEach((h, k) => { text = text.split(h + ': ').join(names[k] + ': '); });
            fs.writeFileSync(outFile, text);
            const bad = r.status !== 0 ? `exit ${r.status}: ${r.stderr}` : checkPrefixed();
            on.push({ ms: r.ms, failure: bad });
            let sum = 0, failure = null;
            for (const x of servers) {
                const one = timeRun(['--url', x.url]);
                sum += one.ms;
                if (one.status !== 0) failure = `exit ${one.status}`;
            }
            serial.push({ ms: sum, failure });
            log(`W6 run ${i + 1}: --on ${r.ms.toFixed(0)} ms, three in a row ${sum.toFixed(0)} ms${bad ? ' FAIL ' + bad : ''}`);
        }
    } finally {
        for (const x of servers) await stopServer(x);
    }
    const label = (cache ? `\`java ${cache.label} -jar\`` : 'plain `java -jar`');
    return [
        { workload: 'W6', server: 'wsexec-on', label: `\`wsexec run --url A --url B --url C\` (three instances, one JVM), ${label}; every line checked`, runs: on },
        { workload: 'W6', server: 'wsexec-serial', label: `three \`wsexec run --url X\` one after another (three JVMs), ${label}: the sum`, runs: serial },
    ];
}

async function runTrue(runs) {
    const s = await startServer(SERVERS.find((x) => x.name === 'wsexec'));
    const rows = [];
    const variants = [['wsexec `run -- true`, plain `java -jar`', []]];
    const cache = startupCache('wsexec-run');
    if (cache) variants.push([`wsexec \`run -- true\`, \`java ${cache.label} -jar\` (as build/wsexec run)`, cache.opts]);
    try {
        for (const [label, opts] of variants) {
            const results = timeJava([...opts, '-jar', JAR, 'run', '--url', s.url, '--', 'true'], runs, label);
            rows.push({ workload: 'W5 run', server: 'wsexec', label, runs: results });
        }
    } finally {
        await stopServer(s);
    }
    return rows;
}

// ---- table -----------------------------------------------------------------------------------

const fmt = (x, d = 1) => (x === undefined || Number.isNaN(x) ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(d));
function summarize(row) {
    const good = row.runs.filter((r) => !r.failure);
    const bad = row.runs.filter((r) => r.failure);
    if (bad.length) row.failure = `fails (${bad.length}/${row.runs.length}): ${bad[0].failure}`;
    if (!good.length) return row;
    const key = row.workload === 'W2' ? 'median' : 'ms';
    row.median = median(good.map((r) => r[key]));
    row.min = Math.min(...good.map((r) => r[key]));
    row.max = Math.max(...good.map((r) => r[key]));
    const firsts = good.map((r) => r.firstMs).filter((x) => x !== undefined);
    if (firsts.length) row.firstMs = median(firsts);
    if (row.workload === 'W2') {
        row.p99 = median(good.map((r) => r.p99));
        row.p99min = Math.min(...good.map((r) => r.p99));
        row.p99max = Math.max(...good.map((r) => r.p99));
    }
    return row;
}

function table(rows) {
    const lines = [
        '| workload | server | median | min–max | × pipe | × pipe under stdbuf | × websocketd | server CPU ms/MB | server peak RSS above idle | check |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ];
    const by = (w, name) => rows.find((r) => r.workload === w && r.server === name);
    for (const r of rows) {
        if (r.workload === 'W4') {
            const probe = r.probe && r.probe.median !== null
                ? `; a new client's \`echo ok\` with all open: ${fmt(r.probe.median)} ms median, ${fmt(r.probe.max)} ms max (${r.probe.ms.length} probes)` : '';
            lines.push(`| W4 ${r.conns.toLocaleString('en-US')} idle connections (ran \`echo ok\`) | ${r.label} | ${fmt(r.perConnKB)} KB/conn | idle ${fmt(r.idleKB / 1024)} MB → open ${fmt(r.openKB / 1024)} MB → closed ${fmt(r.afterKB / 1024)} MB | – | – | – | – | – | ${r.failure || `ok ${r.ok}/${r.conns}`}, set up in ${fmt(r.setupMs / 1000)} s${probe} |`);
            continue;
        }
        const pipe = by(r.workload, 'pipe');
        const pipeLb = by(r.workload, 'pipe-lb');
        const wsd = by(r.workload, 'websocketd');
        const ratio = (base) => (base && base.median && r.median && r.workload !== 'W2' && !base.failure ? fmt(r.median / base.median, 2) + '×' : '–');
        const value = r.workload === 'W2'
            ? (r.median === undefined ? '–' : `${r.median.toFixed(3)} / ${r.p99.toFixed(3)} ms`)
            : (r.median === undefined ? '–' : `${fmt(r.median)} ms` + (r.firstMs === undefined ? '' : ` (first byte ${fmt(r.firstMs)})`));
        const range = r.workload === 'W2'
            ? (r.median === undefined ? '–' : `${r.min.toFixed(3)}–${r.max.toFixed(3)} / ${r.p99min.toFixed(3)}–${r.p99max.toFixed(3)}`)
            : (r.median === undefined ? '–' : `${fmt(r.min)}–${fmt(r.max)}`);
        lines.push(`| ${r.title} | ${r.label} | ${value} | ${range} | ${ratio(pipe)} | ${ratio(pipeLb)} | ${ratio(wsd)} | ${r.cpuMsPerMB === undefined ? '–' : fmt(r.cpuMsPerMB, 2)} | ${r.peakRssAboveIdleMB === undefined ? '–' : fmt(r.peakRssAboveIdleMB) + ' MB'} | ${r.failure || `ok (${r.runs.length} runs)`} |`);
    }
    return lines.join('\n');
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
    const rows = [];
    const want = {};
    const titles = {
        W1: `W1 \`seq 1 ${W1_N}\``,
        'W1-10M': `W1-10M \`seq 1 ${W1BIG_N}\``,
        W3: `W3 \`head -c ${W3_BYTES} random.bin \\| base64\``,
        W2: `W2 ${W2_LINES} lines, one per 10 ms: delay median / p99`,
        W5: 'W5 launch → first accepted handshake',
        'W5 run': 'W5 `run -- true` round trip',
        W6: `W6 \`run --on\` of \`seq 1 ${W1_N}\` over 3 instances`,
    };
    const cmds = {
        W1: `seq 1 ${W1_N}`,
        'W1-10M': `seq 1 ${W1BIG_N}`,
        W3: `head -c ${W3_BYTES} ${RANDOM} | base64`,
        W2: `/usr/bin/python3 ${path.join(BENCH, 'producer.py')} ${W2_LINES} 10`,
    };
    if (WORKLOADS.includes('W1')) want.W1 = expectSeq(W1_N);
    if (WORKLOADS.includes('W1-10M')) want['W1-10M'] = expectSeq(W1BIG_N);
    if (WORKLOADS.includes('W3')) want.W3 = expectW3();

    for (const server of SERVERS) {
        const streaming = ['W1', 'W1-10M', 'W3', 'W2'].filter((w) => wanted(server, w));
        if (!streaming.length) continue;
        let s = null;
        try {
            if (server.cmd) s = await startServer(server);
            client(['stream', server.proto, s ? s.url : '-', `seq 1 ${W1_N}`]); // warm-up run, not counted
            for (const w of streaming) {
                // websocketd needs over two minutes per W1-10M run on this machine (a process and a
                // message per line): its runs there are capped so that the whole bench stays under
                // 15 minutes. The table says how many runs each cell had.
                // Its W1 and W3 runs (10-14 s each) are capped at 3 for the same reason.
                const runs = server.name !== 'websocketd' ? RUNS
                    : w === 'W1-10M' ? Math.min(RUNS, SLOW_RUNS) : Math.min(RUNS, SLOW_RUNS_W1_W3);
                const row = w === 'W2' ? runLatency(server, s, cmds.W2, runs) : runStream(server, s, w, cmds[w], want[w], runs);
                row.title = titles[w];
                rows.push(row);
            }
        } catch (e) {
            log(`${server.name}: ${e.message}`);
            rows.push({ workload: 'W1', title: titles.W1, server: server.name, label: server.label, runs: [{ failure: e.message }] });
        } finally {
            await stopServer(s);
        }
    }
    // Issue #20's floor: the pipe's runs plus the time Deflater alone takes on the same output in 64 KiB
    // messages at level 6 (bench/java/wsexec/websocket/DeflateFloor.java), measured now, in this run.
    for (const w of ['W1', 'W3'].filter((x) => WORKLOADS.includes(x))) {
        const pipeRow = rows.find((r) => r.workload === w && r.server === 'pipe');
        if (!pipeRow || !SERVERS.find((x) => x.name === 'wsexec-deflate')) continue;
        const file = path.join(WORK, `${w}.out`);
        sh(`sh -c '${cmds[w].replace(/'/g, "'\\''")}' > ${file}`);
        const floor = JSON.parse(spawnSync(JAVA, ['-cp', 'build/classes:build/bench-classes', 'wsexec.websocket.DeflateFloor', file, '6'],
            { encoding: 'utf8', cwd: ROOT }).stdout);
        log(`${w} Deflater alone: ${floor.ms.toFixed(1)} ms, ${floor.raw} -> ${floor.compressed} bytes (${(100 * floor.compressed / floor.raw).toFixed(1)} %)`);
        rows.push({ workload: w, title: titles[w], server: 'deflate-floor',
            label: `floor for deflate: the pipe + Deflater alone on the same bytes in 64 KiB messages, level 6 (${fmt(floor.ms)} ms; ${(100 * floor.compressed / floor.raw).toFixed(1)} % of raw)`,
            runs: pipeRow.runs.filter((r) => !r.failure).map((r) => ({ ms: r.ms + floor.ms })) });
    }
    if (WORKLOADS.includes('W4')) {
        for (const server of SERVERS.filter((x) => x.cmd && wanted(x, 'W4'))) {
            for (const n of server.name === 'wsexec' || server.name === 'idle-floor' ? W4_WSEXEC : [W4_CONNS]) rows.push(await runIdle(server, n));
        }
    }
    if (WORKLOADS.includes('W5')) {
        for (const server of SERVERS.filter((x) => x.cmd && wanted(x, 'W5'))) {
            if (server.name === 'wsexec') {
                const plain = (p) => [JAVA, '-jar', JAR, 'serve', '--port', String(p), '--quiet', '--token-file', TOKEN_FILE];
                rows.push(Object.assign(await runStartup(server, 'wsexec, plain `java -jar`', plain, RUNS), { title: titles.W5 }));
                const cache = startupCache('wsexec');
                if (cache) {
                    const cached = (p) => [JAVA, ...SERVER_OPTS, ...cache.opts, '-jar', JAR, 'serve', '--port', String(p), '--quiet', '--token-file', TOKEN_FILE];
                    rows.push(Object.assign(await runStartup(server, `wsexec, \`java ${[...SERVER_OPTS, cache.label].join(' ')} -jar\` (as build/wsexec serve)`, cached, RUNS), { title: titles.W5 }));
                    rows.push(Object.assign(runJvmAlone([...SERVER_OPTS, ...cache.opts], RUNS), { title: titles.W5 }));
                }
                continue;
            }
            rows.push(Object.assign(await runStartup(server, server.label, server.cmd, RUNS), { title: titles.W5 }));
        }
        if (SERVERS.find((x) => x.name === 'wsexec')) for (const row of await runTrue(RUNS)) rows.push(Object.assign(row, { title: titles['W5 run'] }));
    }
    if (WORKLOADS.includes('W6') && SERVERS.find((x) => x.name === 'wsexec')) {
        for (const row of await runOnThree(RUNS)) rows.push(Object.assign(row, { title: titles.W6 }));
    }
    rows.filter((r) => r.runs).forEach(summarize);
    // websocketd's figure is the reference for the × websocketd column of the W5 rows too
    const order = ['W1', 'W1-10M', 'W3', 'W2', 'W4', 'W5', 'W5 run', 'W6'];
    rows.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload));

    const seconds = ((Date.now() - began) / 1000).toFixed(0);
    const cpu = os.cpus()[0].model.trim();
    const head = [
        QUICK ? '# SMOKE RUN (BENCH_QUICK=1) — reduced sizes, 1 run each: checks that the harness works; NOT a measurement\n' : '# make bench\n',
        `${new Date().toISOString()} · ${os.cpus().length} × ${cpu} · Linux ${os.release()} · ${spawnSync(JAVA, ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]} · node ${process.version} · ${RUNS} run(s) per cell after one warm-up · wsexec JVM options: \`${javaOpts().join(' ') || '(none)'}\` · took ${seconds} s`,
        '',
        'Times are from the client opening the connection to the `exit` event (pipe: from spawning the command to its exit), with every byte hashed and counted by the same client; "first byte" is when the first byte of output reached it (the median of the same runs). CPU is the server process\'s own user+system time (not the command\'s) per MB delivered; peak RSS is VmHWM after `clear_refs` minus RSS before the W1-10M runs. W4: RSS of the server process (websocketd: its own process, not the per-connection wrappers); with all connections open, a new client\'s round trip is from its connect to the `exit` event of its own `echo ok`.',
        '',
        table(rows),
        '',
    ].join('\n');
    console.log(head);
    fs.mkdirSync(path.join(BENCH, 'results'), { recursive: true });
    const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
    const name = (QUICK ? 'smoke-' : '') + stamp;
    fs.writeFileSync(path.join(BENCH, 'results', name + '.md'), head);
    fs.writeFileSync(path.join(BENCH, 'results', name + '.json'), JSON.stringify(rows, null, 1));
    log(`wrote bench/results/${name}.md`);
}

main().catch((e) => { console.error(e); process.exit(1); });
