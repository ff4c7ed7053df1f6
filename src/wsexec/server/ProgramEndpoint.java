package wsexec.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

import wsexec.websocket.CloseCode;
import wsexec.websocket.HttpRequest;
import wsexec.websocket.Message;
import wsexec.websocket.WebSocket;
import wsexec.common.Json;
import wsexec.common.Log;
import wsexec.common.Version;
import wsexec.job.InputBudget;
import wsexec.job.JobSignal;
import wsexec.job.PipeThreads;
import wsexec.job.ProcessGroups;
import wsexec.job.Timers;

/**
 * {@code serve --program -- CMD [ARGS...]}: the websocketd way. Every connection starts its own
 * CMD, which the client cannot change. Each text message received becomes one line on its stdin
 * (a binary message is written as it is, with no newline); each line it prints on stdout becomes
 * one text message, without the newline and without JSON. Its stderr goes to the server log, or
 * with {@code --pass-stderr} to the client as {@code {"type":"stderr","data":"LINE"}}. When the
 * program exits and its output is sent, the server closes with 1000; when the client leaves,
 * the program's process group gets TERM, then KILL after the grace.
 *
 * <p>The program sees a clean environment: the variables named by {@code --pass-env}
 * ({@code PATH,LD_LIBRARY_PATH} by default) and the CGI-style variables websocketd sets
 * ({@code REMOTE_ADDR}, {@code QUERY_STRING}, {@code HTTP_USER_AGENT}…). The server's token is
 * never among them: it is cut from {@code QUERY_STRING} and {@code REQUEST_URI}, and
 * {@code HTTP_AUTHORIZATION} is left out while the server authenticates.
 *
 * <p>Pipes are read and written on platform threads (a blocking pipe call pins a virtual
 * thread's carrier); stdin on its way is bounded ({@link Config#stdinBuffer()}), so a program that
 * does not read stops the connection's reading, and a client that does not read stops the
 * program's output. The connection's end ends the program at once, even while the reader waits.
 */
public final class ProgramEndpoint implements Server.Endpoint {

    /**
     * @param passStderr   send stderr lines to the client as JSON-tagged messages instead of the log
     * @param passEnv      names of the server's environment variables the program gets
     * @param killGrace    between TERM and KILL when the client has left
     * @param maxLineBytes a longer stdout line is sent in pieces of this size
     * @param stdinBuffer  bytes received for the program's stdin and not yet written to its pipe,
     *                     at most; past it the server reads no more from the client
     */
    public record Config(boolean passStderr, List<String> passEnv, Duration killGrace, int maxLineBytes, int stdinBuffer) {
        public static final List<String> DEFAULT_PASS_ENV = List.of("PATH", "LD_LIBRARY_PATH");
        public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

        public Config(boolean passStderr, List<String> passEnv, Duration killGrace, int maxLineBytes) {
            this(passStderr, passEnv, killGrace, maxLineBytes, ExecEndpoint.Config.DEFAULT_STDIN_BUFFER);
        }
    }

    private static final byte[] END_OF_INPUT = new byte[0];
    private static final SecureRandom IDS = new SecureRandom();

    private final Config config;
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    private volatile Metrics metrics = new Metrics();

    public ProgramEndpoint(Config config) {
        this.config = config;
    }

    @Override
    public void attach(Metrics serverMetrics) {
        this.metrics = serverMetrics;
    }

    @Override
    public Server.Handler open(WebSocket webSocket, Server.Peer peer, AccessPolicy.Admission admission) {
        Process process;
        try {
            process = admission.program(environment(admission)).start();
        } catch (AccessPolicy.Forbidden | IOException e) {
            Log.error("cannot start the program for " + peer + ": " + e.getMessage());
            webSocket.close(CloseCode.INTERNAL_ERROR, "cannot start the program");
            return message -> false; // one more read, for the peer's Close, then the end
        }
        running.add(process);
        long startNanos = System.nanoTime();
        metrics.jobStarted();
        Log.event("program.started", "program started (pid " + process.pid() + ") for " + peer,
                "peer", peer.toString(), "pid", process.pid());
        Events.jobStarted("program", process.pid());
        BlockingQueue<byte[]> stdin = new LinkedBlockingQueue<>(); // bounded by the budget
        InputBudget budget = new InputBudget(config.stdinBuffer());
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable endOnce = () -> {
            if (ended.compareAndSet(false, true)) {
                end(process);
            }
        };
        webSocket.onClosing(() -> {
            budget.close();
            endOnce.run();
        });
        PipeThreads.start("program-" + process.pid() + "-stdin", () -> writeStdin(process, stdin, budget));
        PipeThreads.Task stderr = PipeThreads.start("program-" + process.pid() + "-stderr",
                () -> lines(process.getErrorStream(), line -> stderrLine(webSocket, process, line)));
        PipeThreads.start("program-" + process.pid() + "-stdout", () -> {
            lines(process.getInputStream(), line -> webSocket.sendText(line));
            try {
                stderr.join();
                int code = process.waitFor();
                long ms = (System.nanoTime() - startNanos) / 1_000_000;
                metrics.jobExited(code);
                Log.event("program.exited", "program (pid " + process.pid() + ") exited with " + code + " after " + ms + " ms",
                        "peer", peer.toString(), "pid", process.pid(), "code", code, "durationMs", ms);
                Events.jobEnded("program", process.pid(), code, ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // websocketd drops the socket here; a Close frame tells the client the program ended.
            webSocket.close(CloseCode.NORMAL_CLOSURE, "program exited");
        });
        return new Server.Handler() {
            @Override
            public boolean message(Message message) {
                byte[] bytes = switch (message) {
                    case Message.Text text -> (text.text() + "\n").getBytes(StandardCharsets.UTF_8);
                    case Message.Binary binary -> binary.data();
                    default -> null;
                };
                if (bytes != null && bytes.length > 0 && process.isAlive()) {
                    try {
                        if (!budget.acquire(bytes.length)) {
                            return false; // the connection closed while the program was not reading
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                    stdin.add(bytes);
                }
                return true;
            }

            @Override
            public void ended() {
                stdin.clear();
                stdin.offer(END_OF_INPUT);
                endOnce.run();
            }
        };
    }

    /** TERM to the program's group now, KILL after the grace, unless it has exited. */
    private void end(Process process) {
        if (!process.isAlive()) {
            running.remove(process);
            return;
        }
        Timers.blocking("program-term", () -> ProcessGroups.signal(process, JobSignal.TERM));
        Timers.afterBlocking(config.killGrace().toMillis(), "program-kill", () -> {
            if (process.isAlive()) {
                ProcessGroups.signal(process, JobSignal.KILL);
            }
        });
        process.onExit().thenRun(() -> running.remove(process));
    }

    @Override
    public void shutdown(Duration grace) {
        running.forEach(this::end);
        Timers.awaitUntil(grace.plusMillis(500), 20, running::isEmpty);
    }

    private void stderrLine(WebSocket webSocket, Process process, String line) throws IOException {
        if (config.passStderr()) {
            webSocket.sendText(Json.object().field("type", "stderr").field("data", line).toString());
        } else {
            // Logged by design (the operator's view of the program); marked so it is never taken for the server's own words.
            Log.event("program.stderr", "program (pid " + process.pid() + ") stderr: " + line, "pid", process.pid(), "line", line);
        }
    }

    private interface LineSink {
        void line(String line) throws IOException;
    }

    /**
     * Reads a pipe to its end and hands over each line without its line ending; a line longer than
     * the cap goes in pieces. Once the sink fails (the client is gone) the rest is read and dropped,
     * so the program is never stuck on a full pipe before its TERM arrives.
     */
    private void lines(InputStream pipe, LineSink sink) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        boolean delivering = true;
        try (pipe) {
            int n;
            while ((n = pipe.read(buffer)) >= 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buffer[i];
                    if (b == '\n' || line.size() >= config.maxLineBytes()) {
                        delivering = deliver(sink, line, delivering);
                        if (b == '\n') {
                            continue;
                        }
                    }
                    line.write(b);
                }
            }
            if (line.size() > 0) {
                deliver(sink, line, delivering);
            }
        } catch (IOException e) {
            // the pipe broke: the program is gone
        }
    }

    private static boolean deliver(LineSink sink, ByteArrayOutputStream line, boolean delivering) {
        byte[] bytes = line.toByteArray();
        line.reset();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        if (!delivering) {
            return false;
        }
        try {
            // Text frames must be UTF-8: bytes that are not become U+FFFD.
            sink.line(new String(bytes, 0, length, StandardCharsets.UTF_8));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Copies queued messages to the program's stdin until the end marker. If the program stops
     * reading (closes stdin or exits), later messages are taken and dropped, so the connection's
     * reader never waits on a queue nobody empties.
     */
    private static void writeStdin(Process process, BlockingQueue<byte[]> queue, InputBudget budget) {
        OutputStream out = process.getOutputStream();
        boolean open = true;
        try {
            while (true) {
                byte[] data = queue.take();
                if (data == END_OF_INPUT) {
                    return;
                }
                if (open) {
                    try {
                        out.write(data);
                        out.flush();
                    } catch (IOException e) {
                        open = false;
                    }
                }
                budget.release(data.length);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                out.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    /** The program's environment: what --pass-env names, and the CGI variables websocketd sets. */
    Map<String, String> environment(AccessPolicy.Admission admission) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : config.passEnv()) {
            String value = System.getenv(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        env.putAll(cgiVariables(admission.request(), admission.peer(), admission.serverPort(), admission.tls(),
                admission.authenticated()));
        return env;
    }

    /** RFC 3875 §4.1 meta-variables, as websocketd fills them for a WebSocket request. */
    static Map<String, String> cgiVariables(HttpRequest request, Server.Peer peer, int serverPort, boolean tls,
                                            boolean dropCredentials) {
        Map<String, String> env = new LinkedHashMap<>();
        String host = request.header("Host") == null ? "" : request.header("Host");
        String name = AccessPolicy.hostPart(host);
        String port = host.length() > name.length() + 1 ? host.substring(name.length() + 1) : Integer.toString(serverPort);
        String query = AccessPolicy.withoutToken(request.query());
        env.put("SERVER_SOFTWARE", "wsexec/" + Version.VERSION);
        env.put("GATEWAY_INTERFACE", "websocketd-CGI/0.1");
        env.put("SERVER_PROTOCOL", request.version());
        env.put("SERVER_NAME", name);
        env.put("SERVER_PORT", port);
        env.put("REMOTE_ADDR", peer.address().getHostAddress());
        env.put("REMOTE_HOST", peer.address().getHostAddress());
        env.put("REMOTE_PORT", Integer.toString(peer.port()));
        env.put("REQUEST_METHOD", request.method());
        env.put("REQUEST_URI", request.path() + (query.isEmpty() ? "" : "?" + query));
        env.put("QUERY_STRING", query);
        env.put("SCRIPT_NAME", "/");
        env.put("PATH_INFO", request.path());
        env.put("PATH_TRANSLATED", request.path());
        env.put("AUTH_TYPE", "");
        env.put("CONTENT_LENGTH", "");
        env.put("CONTENT_TYPE", "");
        env.put("REMOTE_IDENT", "");
        env.put("REMOTE_USER", "");
        env.put("UNIQUE_ID", Long.toUnsignedString(IDS.nextLong()));
        if (tls) {
            env.put("HTTPS", "on");
        }
        for (HttpRequest.Header header : request.headers()) {
            if (!header.name().matches("[A-Za-z0-9-]+")) {
                continue; // not a name a shell variable can carry
            }
            if (dropCredentials && header.name().equalsIgnoreCase("Authorization")) {
                continue;
            }
            String variable = "HTTP_" + header.name().toUpperCase(Locale.ROOT).replace('-', '_');
            env.merge(variable, header.value(), (a, b) -> a + ", " + b);
        }
        return env;
    }
}
