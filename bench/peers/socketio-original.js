// The server of the article that wsexec rebuilds (shared/seed-article.md), as published:
// socket.io + child_process.exec, each chunk split into lines, broadcast with io.sockets.emit.
// Two changes so the benchmark can run it, marked CHANGED: it listens on 127.0.0.1 on a free
// port (the article listens on every interface on 8023), and prints the port on stderr.
const http = require('http').createServer(); // CHANGED (was: require('socket.io')(8023))
const io = require('socket.io')(http);       // CHANGED
const exec = require('child_process').exec;

var execCmd;

/*
 * サーバの接続
 */
io.on('connection', function ( socket ) {
  // コマンドの実行
  socket.on('exec', function ( command ) {
    execCmd = exec(command);
    console.log(execCmd.pid);


    execCmd.stdout.on('data',function(data) {// 実行中の出力を受け取る
      console.log(data);
      data = data.split(/\r\n|\n/);
      io.sockets.emit('response', {data:data});
    });

    execCmd.stderr.on('data', function (data) {// エラーの出力を受け取る
      console.log(data);
      data = data.split(/\r\n|\n/);
      io.sockets.emit('response', {data:data});
    });

    execCmd.on('exit', function (code) {// 処理が終了したことをクライアントに送信
      io.sockets.emit('exit', {data:code});
    });
  });
});

http.listen(Number(process.argv[2] || 0), '127.0.0.1', function () { // CHANGED
  console.error('PORT ' + http.address().port);
});
console.log('Start socket server : http://127.0.0.1:8023');
