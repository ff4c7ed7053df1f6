// A tiny exec server as people write it with Node's `ws` and child_process.spawn: the first
// message is a shell command; each chunk of its stdout goes out as one binary frame, then a text
// frame {"exit":N}. It does not wait for the socket to drain (ws.send queues), as is usual.
'use strict';
const { WebSocketServer } = require('ws');
const { spawn } = require('child_process');

// argv[3] 'deflate': permessage-deflate on, with ws's own defaults (issue #20's comparison).
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), perMessageDeflate: process.argv[3] === 'deflate' });
wss.on('listening', () => console.error('PORT ' + wss.address().port));
wss.on('connection', (ws) => {
    ws.once('message', (command) => {
        const child = spawn('/bin/sh', ['-c', command.toString()], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.on('data', (chunk) => ws.send(chunk));
        child.on('close', (code) => ws.send(JSON.stringify({ exit: code })));
    });
});
