package wsexec.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

import wsexec.common.Json;
import wsexec.common.Urls;

/**
 * {@code wsexec run --on HOSTS -- CMD}: the same command on several instances at once, as
 * {@code pdsh} runs it on several machines. One {@link Client} per host, each on a thread of its
 * own (at most {@code --max-parallel} connected at once); every line of output is prefixed with
 * the host's name and written whole, so no line is ever cut by another host's. At the end a
 * summary (per host: exit code, duration) goes to stderr, and the exit code is 0 only if every
 * host exited 0, else the highest code; 255 when a host could not be reached.
 */
public final class MultiRun {
    private final RunOptions options;
    private final PrintStream out;
    private final PrintStream err;
    private final ReentrantLock lines = new ReentrantLock();

    /** One host of the run: its name, its URL, and how it went. */
    private static final class Host {
        final String name;
        final URI url;
        volatile Client client;
        volatile int code = Client.FAILED;
        volatile long millis;
        volatile boolean started;

        Host(String name, URI url) {
            this.name = name;
            this.url = url;
        }
    }

    public MultiRun(RunOptions options, PrintStream out, PrintStream err) {
        this.options = options;
        this.out = out;
        this.err = err;
    }

    public int run(boolean interruptible) {
        List<Host> hosts;
        try {
            hosts = hosts();
        } catch (IOException e) {
            err.println("wsexec: " + e.getMessage());
            return Client.FAILED;
        }
        if (hosts.isEmpty()) {
            err.println("wsexec: no hosts to run on");
            return Client.FAILED;
        }
        java.net.http.HttpClient http;
        try {
            http = Client.httpClient(options);
        } catch (IOException | java.security.GeneralSecurityException e) {
            err.println("wsexec: " + e.getMessage());
            return Client.FAILED;
        }
        Semaphore slots = new Semaphore(options.multi().maxParallel());
        Thread hook = interruptible ? new Thread(() -> stopAll(hosts), "wsexec-interrupt") : null;
        if (hook != null) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        List<Thread> threads = new ArrayList<>();
        for (Host host : hosts) {
            threads.add(Thread.ofPlatform().name("wsexec-on-" + host.name).start(() -> runOn(host, slots, http)));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        http.shutdownNow();
        int status = summary(hosts);
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // stopping: the hook ends the process
            }
        }
        return status;
    }

    private void runOn(Host host, Semaphore slots, java.net.http.HttpClient http) {
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            String prefix = options.multi().noPrefix() ? "" : host.name + ": ";
            PrintStream hostOut = new PrintStream(new Lines(out, prefix, options.json() ? host.name : null), true, StandardCharsets.UTF_8);
            PrintStream hostErr = new PrintStream(new Lines(err, prefix, null), true, StandardCharsets.UTF_8);
            Client client = new Client(options.forHost(host.url), InputStream.nullInputStream(), hostOut, hostErr);
            host.client = client;
            host.started = true;
            long start = System.nanoTime();
            host.code = client.run(http, false);
            host.millis = (System.nanoTime() - start) / 1_000_000;
            hostOut.close();
            hostErr.close();
        } finally {
            slots.release();
        }
    }

    /** Ctrl-C: every host's job gets INT (KILL after --kill-after), then the summary, then we exit. */
    private void stopAll(List<Host> hosts) {
        List<Thread> stopping = new ArrayList<>();
        for (Host host : hosts) {
            Client client = host.client;
            if (client != null) {
                stopping.add(Thread.ofPlatform().start(client::stop));
            }
        }
        for (Thread t : stopping) {
            try {
                t.join(options.killAfter().toMillis() + 6000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int status = summary(hosts);
        out.flush();
        err.flush();
        Runtime.getRuntime().halt(status);
    }

    /** Per host: code and duration, to stderr; returns the run's exit code. */
    private int summary(List<Host> hosts) {
        int status = 0;
        lines.lock();
        try {
            err.println("wsexec: " + hosts.size() + " hosts:");
            for (Host host : hosts) {
                String outcome = !host.started ? "not started" : host.code == Client.FAILED ? "unreachable or failed (255)"
                        : "exit " + host.code;
                err.printf(Locale.ROOT, "  %-32s %-28s %8d ms%n", host.name, outcome, host.millis);
                status = Math.max(status, host.started ? host.code : Client.FAILED);
            }
            err.flush();
        } finally {
            lines.unlock();
        }
        return status;
    }

    /** The hosts: names behind a gateway (given, or its {@code instances} list), or several URLs. */
    private List<Host> hosts() throws IOException {
        RunOptions.Multi multi = options.multi();
        List<Host> hosts = new ArrayList<>();
        if (multi.hosts() == null) {
            for (URI url : multi.urls()) {
                String name = url.getHost() + (url.getPort() > 0 ? ":" + url.getPort() : "");
                hosts.add(new Host(name, url));
            }
            return hosts;
        }
        List<String> names = multi.hosts().isEmpty() ? instances() : multi.hosts();
        for (String name : names) {
            hosts.add(new Host(name, Urls.withQuery(options.url(), "instance=" + name)));
        }
        return hosts;
    }

    /** {@code --on all}: the JSON array of names the gateway serves at {@code instances}, beside the WebSocket URL. */
    private List<String> instances() throws IOException {
        URI ws = options.url();
        String scheme = ws.getScheme().equalsIgnoreCase("wss") ? "https" : "http";
        String path = ws.getRawPath() == null || ws.getRawPath().isEmpty() ? "/" : ws.getRawPath();
        URI list = URI.create(scheme + "://" + ws.getRawAuthority() + path.substring(0, path.lastIndexOf('/') + 1) + "instances");
        HttpClient http = HttpClient.newBuilder().connectTimeout(options.connectTimeout()).build();
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(list).timeout(options.connectTimeout()).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("cannot list the instances at " + list + ": HTTP " + response.statusCode());
            }
            Object parsed = Json.parse(response.body().strip());
            List<String> names = new ArrayList<>();
            if (parsed instanceof List<?> array) {
                for (Object o : array) {
                    if (o instanceof String name && name.matches("[a-z0-9-]{1,32}")) {
                        names.add(name);
                    }
                }
            }
            if (names.isEmpty()) {
                throw new IOException(list + " lists no instances (expected a JSON array such as [\"a\",\"b\"])");
            }
            return names;
        } catch (Json.ParseException e) {
            throw new IOException(list + " is not a JSON array of names: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } finally {
            http.shutdownNow();
        }
    }

    /**
     * An output stream that passes on whole lines only, each with the host's prefix, under the
     * lock all hosts share: a line is written in one piece or not at all. What is left without a
     * newline at the end is written with one. With {@code --json}, each line (one event) gets the
     * host's name as its {@code instance} field instead.
     */
    private final class Lines extends OutputStream {
        private final PrintStream target;
        private final byte[] prefix;
        private final String instance;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Lines(PrintStream target, String prefix, String instance) {
            this.target = target;
            this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
            this.instance = instance;
        }

        /** Whole lines, prefixed, waiting to go out in one write. */
        private final ByteArrayOutputStream block = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        /**
         * Every whole line of what came goes out prefixed, all of them in one locked write (a read of
         * 64 KiB holds thousands of lines: one system call for them, not one each).
         */
        @Override
        public void write(byte[] b, int off, int len) {
            int start = off;
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    line.write(b, start, i + 1 - start);
                    addLine();
                    start = i + 1;
                }
            }
            line.write(b, start, off + len - start);
            emit();
        }

        private void addLine() {
            byte[] bytes = line.toByteArray();
            line.reset();
            if (instance != null && bytes.length > 1 && bytes[0] == '{') {
                String tagged = "{\"instance\":" + Json.quote(new StringBuilder(), instance) + (bytes.length > 3 ? "," : "")
                        + new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
                bytes = tagged.getBytes(StandardCharsets.UTF_8);
            }
            block.write(prefix, 0, prefix.length);
            block.write(bytes, 0, bytes.length);
        }

        private void emit() {
            if (block.size() == 0) {
                return;
            }
            lines.lock();
            try {
                block.writeTo(target);
                target.flush();
            } catch (IOException e) {
                // our own stdout is gone: PrintStream remembers, as it does for a single run
            } finally {
                lines.unlock();
            }
            block.reset();
        }

        @Override
        public void close() {
            if (line.size() > 0) {
                line.write('\n');
                addLine();
                emit();
            }
        }
    }
}
