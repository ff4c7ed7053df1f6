package wsexec.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;

import wsexec.common.Json;
import wsexec.common.Tls;
import wsexec.common.Urls;
import wsexec.websocket.Utf8Validator;

/**
 * {@code wsexec run}: runs one command on a server with the JDK's own
 * WebSocket client, copies its output to our stdout and stderr as it arrives,
 * forwards our stdin, and exits with the command's exit code. Its own failures
 * (cannot connect, refused, connection lost) print one line and exit 255, as ssh does.
 */
public final class Client implements WebSocket.Listener {
    /** Exit status for wsexec's own failures, as ssh uses. */
    public static final int FAILED = 255;
    /** Exit status when the program to run does not exist, as shells use. */
    static final int NOT_FOUND = 127;
    /** Exit status when our stdout is gone: what a shell reports for a program killed by SIGPIPE (128 + 13). */
    static final int STDOUT_CLOSED = 141;
    private static final String JOB_ID = "1";
    private static final byte[] JOB_ID_UTF8 = JOB_ID.getBytes(StandardCharsets.UTF_8);

    private final RunOptions options;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final CountDownLatch done = new CountDownLatch(1);
    private final ReentrantLock sendLock = new ReentrantLock();
    private final StringBuilder text = new StringBuilder();
    /** Stream byte, id length and id of the binary message being received, as far as it came. */
    private final byte[] prefix = new byte[2 + 255];
    private int prefixLength;
    private volatile WebSocket webSocket;
    private volatile int status = FAILED;
    private volatile boolean exited;
    private volatile boolean closeWhenDone;
    private final CountDownLatch serverClosed = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    /** The kept job's server-wide id: from {@code started}, or the one given to {@code attach}. */
    private volatile String keptJob;
    /** Bytes of each stream received so far: the offsets a resumed attachment starts from. */
    private volatile long stdoutBytes;
    private volatile long stderrBytes;
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    /** Opened when a connection is usable; a lost one replaces it with a closed latch until resumed. */
    private volatile CountDownLatch connected = new CountDownLatch(1);
    private HttpClient http;
    private String token;
    /** When the current connection last brought anything (a message, a Ping, a Pong). */
    private volatile long lastReceivedNanos = System.nanoTime();
    /** Silence after which the watchdog pings the server: a write is what finds a reset connection. */
    static final long PING_AFTER_MILLIS = 2000;
    /** The controlling terminal at start (field 7 of /proc/self/stat), 0 for none: to tell a hang-up. */
    private final long terminalAtStart = Terminal.controllingTerminal();

    public Client(RunOptions options, InputStream in, PrintStream out, PrintStream err) {
        this.options = options;
        this.in = in;
        this.out = out;
        this.err = err;
    }

    public int run() {
        return run(false);
    }

    /**
     * Runs the command to its end.
     *
     * @param interruptible whether this client is the whole process: then a shutdown hook turns
     *                      Ctrl-C (SIGINT, or TERM/HUP) into INT for the job, KILL after
     *                      {@code --kill-after}, and exits with the code the job reports
     */
    public int run(boolean interruptible) {
        HttpClient http;
        try {
            http = httpClient(options);
        } catch (IOException | GeneralSecurityException e) {
            err.println("wsexec: " + e.getMessage());
            return FAILED;
        }
        try {
            return run(http, interruptible);
        } finally {
            // Its selector thread would still wait in epoll when the JVM exits, and the JVM waits
            // ~300 ms for threads in native code before it gives up on them (bench/README.md, Start-up).
            http.shutdownNow();
        }
    }

    /** The JDK client this run's options call for: its TLS trust, its connect timeout. */
    static HttpClient httpClient(RunOptions options) throws IOException, GeneralSecurityException {
        HttpClient.Builder httpBuilder = HttpClient.newBuilder().connectTimeout(options.connectTimeout());
        if (options.cacert() != null) {
            SSLContext trusting = Tls.trusting(options.cacert());
            httpBuilder.sslContext(trusting).sslParameters(Tls.parameters(trusting));
        } else if (options.url().getScheme().equalsIgnoreCase("ws")) {
            // Plain ws:// needs no TLS: spare the start-up the JDK's default context (bench/README.md, Start-up)
            httpBuilder.sslContext(Tls.none()).sslParameters(Tls.noneParameters());
        }
        return httpBuilder.build();
    }

    /**
     * Runs on a JDK client someone else owns and closes ({@code run --on} shares one among its
     * hosts: one selector thread and one set of loaded classes instead of one per host).
     */
    int run(HttpClient shared, boolean interruptible) {
        String token;
        try {
            token = Tokens.token(options, System.getenv());
        } catch (IOException e) {
            err.println("wsexec: " + e.getMessage());
            return FAILED;
        }
        return run(shared, token, interruptible);
    }

    /**
     * Opens a connection. One to a kept job names it in the URL ({@code ?job=J}): a gateway in
     * front of several instances routes it to the one that runs the job (docs/DEPLOY.md).
     */
    private WebSocket connect() throws ExecutionException, TimeoutException, InterruptedException {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(options.connectTimeout());
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        java.net.URI url = keptJob != null && options.mode() != RunOptions.Mode.JOBS && !options.detach()
                && (options.mode() == RunOptions.Mode.ATTACH || connected.getCount() > 0 && reconnecting.get())
                ? Urls.withQuery(options.url(), "job=" + java.net.URLEncoder.encode(keptJob, StandardCharsets.UTF_8))
                : options.url();
        return builder.buildAsync(url, this).get(options.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    private int run(HttpClient http, String token, boolean interruptible) {
        this.http = http;
        this.token = token;
        keptJob = options.job();
        try {
            connect(); // onOpen makes it the current one
            connected.countDown();
        } catch (ExecutionException e) {
            err.println("wsexec: cannot connect to " + options.url() + ": " + describe(e.getCause()));
            return FAILED;
        } catch (TimeoutException e) {
            err.println("wsexec: cannot connect to " + options.url() + ": timed out");
            return FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        }
        Thread interruptHook = interruptible ? new Thread(this::interrupted, "wsexec-interrupt") : null;
        if (interruptHook != null) {
            Runtime.getRuntime().addShutdownHook(interruptHook);
        }
        String first = switch (options.mode()) {
            case RUN -> Requests.exec(options, JOB_ID);
            case ATTACH -> Requests.attach(options, JOB_ID, keptJob, options.from(), 0, 0);
            case JOBS -> Json.object().field("type", "jobs").field("id", JOB_ID).toString();
        };
        if (!send(first)) {
            return status;
        }
        Thread watchdog = Thread.ofVirtual().name("wsexec-watchdog").start(this::watch);
        // Only run gives our stdin to the job: attach must not close a kept job's stdin when ours ends.
        Thread stdin = options.mode() != RunOptions.Mode.RUN || options.detach() ? null
                : Thread.ofPlatform().name("wsexec-stdin").daemon(true).start(this::forwardStdin);
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stdin != null) {
            stdin.interrupt();
        }
        watchdog.interrupt();
        if (closeWhenDone) {
            closeCleanly();
        }
        out.flush();
        err.flush();
        if (interruptHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(interruptHook);
            } catch (IllegalStateException e) {
                // the process is already stopping: the hook owns the exit now
            }
        }
        return status;
    }

    /**
     * The shutdown hook: the process was told to stop (Ctrl-C) while the job runs.
     * The JDK has no supported way to see a second Ctrl-C (a hook runs once and further
     * signals are swallowed), so escalation is by time: INT now, KILL after
     * {@code --kill-after}. Then the job's own exit code is what this process exits with.
     */
    private void interrupted() {
        if (!exited && options.keep() != null && keptJob != null && hungUp()) {
            // The terminal is gone (its window closed, the ssh session dropped): nobody is there to
            // ask, so the job runs on, kept, as it would in tmux. Ctrl-C and TERM still end it.
            err.println("wsexec: terminal hung up: detaching; job " + keptJob + " keeps running (wsexec attach " + keptJob + ")");
            err.flush();
            Runtime.getRuntime().halt(129);
        }
        if (!exited && options.readOnly()) {
            Runtime.getRuntime().halt(130); // a viewer's Ctrl-C stops watching, nothing more
        }
        if (!exited) {
            signalJob("INT");
            if (!awaitDone(options.killAfter().toMillis())) {
                err.println("wsexec: still running " + options.killAfter().toMillis() + " ms after INT: sending KILL");
                err.flush();
                signalJob("KILL");
                awaitDone(5000);
            }
        }
        if (closeWhenDone) {
            closeCleanly();
        }
        out.flush();
        err.flush();
        // System.exit would block forever inside a hook; the remote code is the answer.
        Runtime.getRuntime().halt(status);
    }

    /**
     * Ctrl-C for a client that is not the whole process ({@code run --on} runs several): INT to
     * the job now, KILL after {@code --kill-after} if it has not ended; returns once it has (or
     * 5 s after the KILL).
     */
    void stop() {
        if (exited) {
            return;
        }
        signalJob("INT");
        if (!awaitDone(options.killAfter().toMillis())) {
            signalJob("KILL");
            awaitDone(5000);
        }
    }

    private void signalJob(String signal) {
        send(Json.object().field("type", "signal").field("id", JOB_ID).field("signal", signal).toString());
    }

    private boolean awaitDone(long millis) {
        try {
            return done.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return exited;
        }
    }

    /**
     * Whether our controlling terminal went away since we started. The JDK runs one shutdown hook
     * for INT, TERM and HUP alike and tells us nothing of which it was; but a hang-up is the
     * terminal going away, and then the kernel takes it from the session: the {@code tty_nr} of
     * {@code /proc/self/stat} drops to 0. So: we had a terminal, and now we have none.
     */
    private boolean hungUp() {
        return terminalAtStart != 0 && Terminal.controllingTerminal() == 0;
    }

    /** Copies our stdin to the job, then closes the job's stdin. */
    private void forwardStdin() {
        byte[] buffer = new byte[64 * 1024 + 3];
        int carried = 0;
        try {
            while (!exited) {
                int n = in.read(buffer, carried, 64 * 1024);
                if (n < 0) {
                    break;
                }
                int length = carried + n;
                int complete = Utf8Validator.completePrefixLength(buffer, 0, length);
                if (complete > 0 && !sendStdin(buffer, complete)) {
                    return;
                }
                carried = length - complete;
                System.arraycopy(buffer, complete, buffer, 0, carried);
            }
            if (carried > 0 && !sendStdin(buffer, carried)) {
                return;
            }
        } catch (IOException e) {
            // our stdin failed: treat as end of input
        }
        if (!exited) {
            send(Json.object().field("type", "stdin").field("id", JOB_ID).field("eof", true).toString());
        }
    }

    private boolean sendStdin(byte[] bytes, int length) {
        Json.ObjectWriter message = Json.object().field("type", "stdin").field("id", JOB_ID);
        if (Utf8Validator.isValid(bytes, 0, length)) {
            message.field("data", new String(bytes, 0, length, StandardCharsets.UTF_8));
        } else {
            message.field("base64", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(bytes, length)));
        }
        return send(message.toString());
    }

    /**
     * The JDK client allows one outstanding send at a time: take turns. With {@code --keep}, a
     * send that finds the connection lost waits for it to be resumed and goes out on the new one.
     */
    private boolean send(String message) {
        while (!exited) {
            CountDownLatch ready = connected;
            try {
                if (!ready.await(options.keep() != null ? options.keep().toMillis() : 0, TimeUnit.MILLISECONDS)) {
                    return false; // no connection came back within the keep time
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            WebSocket ws = webSocket;
            sendLock.lock();
            try {
                ws.sendText(message, true).get();
                return true;
            } catch (ExecutionException e) {
                lost(ws, describe(e.getCause()));
                if (!canResume()) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                sendLock.unlock();
            }
        }
        return false;
    }

    /**
     * Finds a connection that died without a word. The JDK's client does not always report a reset
     * that arrives while it waits for input (measured here: a relay that resets the connection mid
     * output left {@code run} waiting forever, and the error came only with the next send). So after
     * {@link #PING_AFTER_MILLIS} of silence we send a Ping: on a live connection the server's Pong
     * answers it, on a dead one the write fails and the loss is handled (reconnect, or 255).
     */
    private void watch() {
        byte[] payload = "wsexec-client".getBytes(StandardCharsets.US_ASCII);
        while (!exited) {
            try {
                Thread.sleep(PING_AFTER_MILLIS / 2);
            } catch (InterruptedException e) {
                return;
            }
            WebSocket ws = webSocket;
            if (ws == null || connected.getCount() > 0 || System.nanoTime() - lastReceivedNanos < PING_AFTER_MILLIS * 1_000_000) {
                continue;
            }
            if (!sendLock.tryLock()) {
                continue; // a send is under way: it will find a dead connection itself
            }
            try {
                ws.sendPing(ByteBuffer.wrap(payload)).get(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                lost(ws, describe(e.getCause()));
            } catch (TimeoutException e) {
                // the socket is full: the server is slow to read, not gone
            } catch (InterruptedException e) {
                return;
            } finally {
                sendLock.unlock();
            }
        }
    }

    @Override
    public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
        if (ws == webSocket) {
            lastReceivedNanos = System.nanoTime();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
        if (ws == webSocket) {
            lastReceivedNanos = System.nanoTime();
        }
        return WebSocket.Listener.super.onPing(ws, message);
    }

    /** Whether a lost connection is resumed rather than the end of the run. */
    private boolean canResume() {
        return options.keep() != null && keptJob != null && options.mode() != RunOptions.Mode.JOBS && !options.detach();
    }

    /**
     * The connection {@code ws} failed. Without {@code --keep} that ends the run (255, as ssh);
     * with it, the job runs on on the server and we reconnect and resume from our offsets.
     */
    private void lost(WebSocket ws, String why) {
        if (exited || ws != webSocket) {
            return; // over already, or an old connection's last word
        }
        if (!canResume()) {
            err.println("wsexec: connection lost: " + why);
            finish(FAILED);
            return;
        }
        if (!reconnecting.compareAndSet(false, true)) {
            return;
        }
        connected = new CountDownLatch(1);
        ws.abort();
        err.println("wsexec: connection lost (" + why + "); reconnecting to job " + keptJob);
        err.flush();
        Thread.ofVirtual().name("wsexec-reconnect").start(this::reconnect);
    }

    /** Reconnects (0.2 s, doubling to 5 s, for up to the keep time) and attaches from our offsets. */
    private void reconnect() {
        long deadline = System.nanoTime() + options.keep().toNanos();
        long pause = 200;
        while (!exited && System.nanoTime() < deadline) {
            try {
                Thread.sleep(pause);
                pause = Math.min(5000, pause * 2);
                prefixLength = 0; // a binary message cut in the middle is not continued
                text.setLength(0);
                WebSocket ws = connect(); // onOpen made it the current one
                sendLock.lock();
                try {
                    ws.sendText(Requests.attach(options, JOB_ID, keptJob, null, stdoutBytes, stderrBytes), true).get();
                } finally {
                    sendLock.unlock();
                }
                reconnecting.set(false);
                connected.countDown();
                err.println("wsexec: reconnected; resuming job " + keptJob + " at stdout " + stdoutBytes + ", stderr " + stderrBytes);
                err.flush();
                return;
            } catch (ExecutionException | TimeoutException e) {
                // not yet: the server or the network is still away
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!exited) {
            err.println("wsexec: could not reconnect within " + options.keep().toSeconds() + " s; job " + keptJob + " may still run");
            finish(FAILED);
        }
    }

    /**
     * The connection is open: from now on its callbacks are the current ones. (Set here, not when
     * {@code buildAsync} completes: the first messages may arrive before that future's caller runs.)
     */
    @Override
    public void onOpen(WebSocket ws) {
        webSocket = ws;
        lastReceivedNanos = System.nanoTime();
        ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        if (ws != webSocket) {
            return null; // an old connection's last frames: the new one carries on from our offsets
        }
        lastReceivedNanos = System.nanoTime();
        text.append(data);
        if (last) {
            String message = text.toString();
            text.setLength(0);
            onEvent(message);
        }
        ws.request(1);
        return null;
    }

    /**
     * A binary output frame (docs/PROTOCOL.md, "Binary output"): stream byte, id length, id,
     * then the bytes. The JDK hands a large message over in parts (16 KiB each): the prefix is
     * gathered (it may straddle parts), then each part's bytes go straight to our stdout or
     * stderr as they come, with no copy and no waiting for the rest of the message.
     */
    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        if (ws != webSocket) {
            return null;
        }
        lastReceivedNanos = System.nanoTime();
        int needed = prefixLength < 2 ? 2 : 2 + (prefix[1] & 0xFF);
        while (prefixLength < needed && data.hasRemaining()) {
            prefix[prefixLength++] = data.get();
            if (prefixLength == 2) {
                needed = 2 + (prefix[1] & 0xFF);
            }
        }
        PrintStream target = prefixLength == needed && !exited && isOurId() ? (prefix[0] == 2 ? err : out) : null;
        if (target != null && data.hasRemaining()) {
            if (target == err) {
                stderrBytes += data.remaining();
            } else {
                stdoutBytes += data.remaining();
            }
            if (data.hasArray()) {
                target.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
            } else {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                target.write(bytes, 0, bytes.length);
            }
        }
        if (last) {
            if (target != null) {
                target.flush();
                checkStdout(target);
            }
            prefixLength = 0;
        }
        ws.request(1);
        return null;
    }

    /** Whether the gathered prefix names our job. */
    private boolean isOurId() {
        if (prefixLength != 2 + JOB_ID_UTF8.length) {
            return false;
        }
        return java.util.Arrays.equals(prefix, 2, prefixLength, JOB_ID_UTF8, 0, JOB_ID_UTF8.length);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        if (ws != webSocket) {
            return null;
        }
        serverClosed.countDown();
        if (!exited && canResume()) {
            lost(ws, "server closed it: " + statusCode + (reason.isEmpty() ? "" : " " + reason));
        } else if (!exited) {
            err.println("wsexec: server closed the connection (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ") before the command finished");
            finish(FAILED);
        }
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        if (!exited && canResume()) {
            lost(ws, describe(error));
        } else if (!exited && ws == webSocket) {
            err.println("wsexec: connection failed: " + describe(error));
            finish(FAILED);
        }
    }

    private void onEvent(String message) {
        if (exited) {
            return; // after the exit code nothing more is ours to show
        }
        Map<?, ?> event;
        try {
            event = Json.parse(message) instanceof Map<?, ?> m ? m : null;
        } catch (Json.ParseException e) {
            event = null;
        }
        if (event == null) {
            err.println("wsexec: unexpected message from server: " + abbreviate(message));
            return;
        }
        if (options.json()) {
            out.println(message);
            out.flush();
            checkStdout(out);
        }
        Object type = event.get("type");
        if (!JOB_ID.equals(event.get("id")) && !"error".equals(type) && !"jobs".equals(type)) {
            return;
        }
        switch (String.valueOf(type)) {
            case "started" -> {
                if (event.get("job") instanceof String job) {
                    keptJob = job;
                    if (options.detach()) {
                        out.println(job);
                        out.flush();
                        finishAndClose(0); // the job is kept: our leaving starts its keep time
                    }
                }
            }
            case "gap" -> {
                if (event.get("to") instanceof Long to && event.get("from") instanceof Long from) {
                    boolean stderr = "stderr".equals(event.get("stream"));
                    if (stderr) {
                        stderrBytes = to;
                    } else {
                        stdoutBytes = to;
                    }
                    err.println("wsexec: " + (to - from) + " bytes of " + (stderr ? "stderr" : "stdout")
                            + " were no longer kept on the server (offsets " + from + " to " + to + ")");
                    err.flush();
                }
            }
            case "jobs" -> {
                if (!options.json()) {
                    JobsTable.print(out, event.get("jobs"));
                }
                finishAndClose(0);
            }
            case "output" -> {
                if (!options.json()) {
                    writeOutput(event);
                }
            }
            case "exit" -> {
                Object code = event.get("code");
                finishAndClose(code instanceof Long c ? c.intValue() : FAILED);
            }
            case "error" -> {
                // Our stdin (or a Ctrl-C) can race with the job's end: the server has finished the
                // job and says it knows no such job, while its exit event is on the way. Not fatal.
                if ("unknown_job".equals(event.get("code"))) {
                    return;
                }
                if (event.get("id") == null || JOB_ID.equals(event.get("id"))) {
                    if ("no_such_job".equals(event.get("code")) && stdoutBytes + stderrBytes > 0) {
                        err.println("wsexec: job " + keptJob + " is gone from the server (its keep time passed)");
                    }
                    err.println("wsexec: " + event.get("message"));
                    finishAndClose("not_found".equals(event.get("code")) ? NOT_FOUND : FAILED);
                }
            }
            default -> {
            }
        }
    }

    private void writeOutput(Map<?, ?> event) {
        PrintStream target = "stderr".equals(event.get("stream")) ? err : out;
        byte[] bytes;
        if (event.get("data") instanceof String data) {
            bytes = data.getBytes(StandardCharsets.UTF_8);
        } else if (event.get("base64") instanceof String base64) {
            bytes = Base64.getDecoder().decode(base64);
        } else {
            return;
        }
        if (target == err) {
            stderrBytes += bytes.length;
        } else {
            stdoutBytes += bytes.length;
        }
        target.write(bytes, 0, bytes.length);
        target.flush();
        checkStdout(target);
    }

    /**
     * Whether our stdout still takes output. When its reader is gone ({@code run -- yes | head -1}),
     * the writes fail (a {@code PrintStream} only remembers that); a local {@code yes} would die of
     * SIGPIPE there. So the run ends as that would, with 141, and closes the connection, which ends
     * the job on the server (as any vanished client does). Nothing is printed: there is nobody
     * to read it, and SIGPIPE is silent too.
     */
    private void checkStdout(PrintStream target) {
        if (target == out && out.checkError()) {
            finishAndClose(STDOUT_CLOSED);
        }
    }

    private void finishAndClose(int code) {
        closeWhenDone = true;
        finish(code);
    }

    /** Closes with 1000 and waits briefly for the server's answer, so both ends see a clean close. */
    private void closeCleanly() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        try {
            webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
            serverClosed.await(2, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // the server is gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        webSocket.abort();
    }

    private void finish(int code) {
        if (!exited) {
            exited = true;
            status = code;
            done.countDown();
            connected.countDown(); // a send waiting for a resumed connection gives up
        }
    }

    private static String describe(Throwable e) {
        if (e instanceof WebSocketHandshakeException h) {
            int code = h.getResponse().statusCode();
            Object body = h.getResponse().body();
            String reason = body instanceof String s && !s.isBlank() ? ": " + s.strip() : "";
            String hint = code == 401 ? " (give --token, --token-file or WSEXEC_TOKEN)" : "";
            return "server answered HTTP " + code + reason + hint;
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof HttpTimeoutException) {
            return "timed out";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
