package wsexec;

/** What {@code --help} prints: the whole usage, and each subcommand's part of it. */
final class Usage {
    private Usage() {
    }

    static final String TEXT = """
            wsexec — run shell commands on a server and stream their output over WebSocket

            usage:
              wsexec serve [options]              run the exec server
              wsexec serve [options] --program -- CMD [ARGS…]   run CMD for each connection (websocketd style)
              wsexec run [options] [--] COMMAND…  run COMMAND on a server, print its output, exit with its code
              wsexec attach [options] JOB         watch a kept job (run --keep/--detach): its output, then its exit code
              wsexec jobs [options]               list the server's kept jobs
              wsexec echo [options]               run an echo server (for WebSocket conformance testing)
              wsexec --help | --version

            serve options:
              --port N                   TCP port (default 8023; 0 picks a free one)
              --bind ADDRESS             address to listen on (default 127.0.0.1)
              --max-message SIZE         largest message a client may send (default 1MiB)
              --max-fragments N          most frames per message (default 1024)
              --deflate on|off           accept permessage-deflate compression, RFC 7692 (default on)
              --deflate-threshold SIZE   send messages smaller than this uncompressed (default 256B)
              --deflate-level N          zlib level 1 (fast) to 9 (small) for sent messages (default 6)
              --max-connections N        open connections before 503 (default 1024)
              --handshake-timeout TIME   the request head must arrive within this (default 10s)
              --close-timeout TIME       wait for the peer's Close frame at most this (default 5s)
              --max-jobs N               running jobs on the server (default 512)
              --max-jobs-per-connection N  running jobs per connection (default 64)
              --job-timeout TIME         time limit for every job (default none)
              --kill-grace TIME          between TERM and KILL when a job is ended (default 3s)
              --linger TIME              how long a finished process may leave its pipes open (default 2s)
              --keep-max TIME            longest "keep" a client may ask for (default 24h)
              --keep-buffer SIZE         output held in memory per stream of a kept job (default 8MiB)
              --max-kept-jobs N          kept jobs on the server, running or ended (default 64)
              --keep-dir DIR             also write kept jobs' output to files there (mode 0600), so a replay
                                         from the start is exact beyond --keep-buffer (default: memory only)
              --keep-max-bytes SIZE      output per stream of a kept job kept in --keep-dir (default 1GiB)
              --stdin-buffer SIZE        stdin one connection may have on its way to its jobs (default 4MiB);
                                         past it the server reads no more from that client until jobs read
              --no-line-buffer           do not ask children to flush each line (stdbuf, PYTHONUNBUFFERED)
              --quiet                    log errors only
              --log-format text|json|journal  log lines as text (default), as one JSON object per line, or
                                         for journald/syslog: "<6>MESSAGE" with the level as a <N> prefix
              --trace                    print every frame both ways and the handshake heads (tokens redacted)
              --metrics-public           serve /healthz and /metrics to every client without the token
                                         (default: loopback clients, or with the token)
              --max-connections-per-address N  open connections from one client address before 429 (default 256)
              --ping-interval TIME       ping clients this often; drop one silent for two intervals (default 30s; 0 off)
              --idle-timeout TIME        close a connection with no job and no message for this long (default 10m; 0 off)
              --base-path PATH           serve everything (WebSocket, console, /healthz, /metrics) under PATH, e.g.
                                         /exec/; anything outside it is 404 (default /)
              --instance NAME            this server's name behind a gateway: job ids start with it, jobs get
                                         WSEXEC_INSTANCE; ?instance= or ?job= of another instance is 421
                                         (default: the host name, cut to a-z 0-9 -, at most 32 characters)
              --trusted-proxy CIDR       believe Forwarded / X-Forwarded-For / -Proto / -Host from peers in CIDR, e.g.
                                         127.0.0.1/32 (repeatable; default: none, the headers are ignored)

            access (see README "Security"):
              --token-file FILE          the token clients must present (default: a new random one, printed in the URL)
              --no-auth                  no token at all; refused unless --bind is a loopback address
              --allow-origin ORIGIN      a browser origin allowed besides the server's own, exactly (repeatable)
              --hostname NAME            a name clients reach the server by, besides loopback and --bind (repeatable)
              --allow REGEX              run only commands that match a pattern entirely (repeatable)
              --program                  run the command after "--" for each connection; messages are its stdin lines,
                                         its stdout lines are messages
              --pass-stderr              with --program: send stderr lines to the client as {"type":"stderr",…}
              --pass-env NAME,…          with --program: environment variables it gets (default PATH,LD_LIBRARY_PATH)
              --tls-keystore FILE.p12    serve wss:// with this PKCS#12 keystore (TLS 1.2 and 1.3)
              --tls-password-file FILE   the keystore's password, on the file's first line

            run options:
              --url URL                  server to use (default ws://127.0.0.1:8023/)
              --json                     print the raw JSON events, one per line
              --pty                      run the command under a pseudo-terminal (stdout and stderr merged)
              --cwd DIR                  working directory on the server
              --env NAME=VALUE           set an environment variable for the command (repeatable)
              --connect-timeout TIME     give up connecting after this (default 10s)
              --token TOKEN              the server's token (also: --token-file FILE, $WSEXEC_TOKEN, ?token= in
                                         the URL; for a server on this machine it is found by itself)
              --cacert FILE              trust this certificate (PEM) for wss://, e.g. a self-signed one
              --kill-after TIME          Ctrl-C sends INT to the command; KILL follows if it is still
                                         running after this (default 3s)
              --keep [TIME]              keep the job on the server if the connection drops, for this long
                                         (default 1h); reconnect and resume byte-exact. A hang-up (the
                                         terminal closed) detaches and leaves the job running
              --detach                   start the job kept (--keep's time, default 1h), print its id, exit 0
              --on HOSTS                 run on several instances at once: a,b,c (names behind one --url
                                         gateway), 'all' (the gateway's GET instances), or give several --url;
                                         each line is prefixed 'NAME: '; exit 0 only if every host exited 0
              --no-prefix                with --on: lines without the 'NAME: ' prefix (still never cut)
              --max-parallel N           with --on: at most N hosts connected at once (default 64)
              One word is run by the server's shell (/bin/sh -c); several words are run as a
              program with those arguments, without a shell.

            attach options: --url, --token, --token-file, --cacert, --connect-timeout, --json as for run, and
              --from start|now           replay from the job's first byte (default) or watch from now
              --read-only                watch only: no stdin, no signals (Ctrl-C just stops watching)
            jobs options: --url, --token, --token-file, --cacert, --connect-timeout, --json

            echo options:
              --port N (default 9001)  --bind ADDRESS (default 127.0.0.1)
              --max-message SIZE (default 64MiB)  --max-fragments N (default 100000)
              --deflate on|off  --deflate-threshold SIZE  --deflate-level N (as for serve)
              --quiet  --log-format text|json|journal  --trace  --metrics-public (as for serve)

            in a browser: open the http:// URL serve prints (the console); GET /healthz and /metrics for operators
            """;

    /** One subcommand's part of {@link #TEXT}: from its "options:" heading to the next subcommand's. */
    static String section(String subcommand) {
        String[] order = {"serve", "run", "echo"};
        int start = TEXT.indexOf(subcommand + " options:");
        int end = TEXT.indexOf("\n\nin a browser");
        for (int i = 0; i < order.length - 1; i++) {
            if (order[i].equals(subcommand)) {
                end = TEXT.indexOf("\n" + order[i + 1] + " options:");
            }
        }
        return "usage: wsexec " + subcommand + " [options]" + (subcommand.equals("run") ? " [--] COMMAND…" : "")
                + "\n\n" + TEXT.substring(start, end).stripTrailing() + "\n";
    }
}
