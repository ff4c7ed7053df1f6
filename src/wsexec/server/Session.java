package wsexec.server;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicReference;

import wsexec.websocket.CloseCode;
import wsexec.websocket.Message;
import wsexec.websocket.WebSocket;
import wsexec.common.Durations;
import wsexec.common.Json;
import wsexec.common.Log;
import wsexec.job.Commands;
import wsexec.job.InputBudget;
import wsexec.job.Job;
import wsexec.job.JobSignal;
import wsexec.job.PipeThreads;
import wsexec.job.ProcessGroups;

/**
 * One client connection speaking the exec protocol (docs/PROTOCOL.md): reads
 * requests, starts and controls jobs, and sends each job's events to this
 * connection only. When the connection ends, for any reason, every job it
 * started is ended: TERM to its process group, KILL after the grace.
 */
final class Session implements Server.Handler {
    /** Longest job id accepted, so ids cannot bloat every event. */
    static final int MAX_ID_LENGTH = 128;

    private final ExecEndpoint endpoint;
    private final WebSocket webSocket;
    private final Server.Peer peer;
    private final AccessPolicy.Admission admission;
    private final Ids<Job> jobs = new Ids<>();
    /** Kept jobs this connection watches, by the id it gave them. */
    private final Ids<Attachment> attachments = new Ids<>();
    /** Ids for jobs the client gave none; only the session's thread counts. */
    private long autoIds;
    private volatile long lastActivityNanos = System.nanoTime();
    /**
     * Stdin received and not yet in a pipe: bounded, and closed the moment the connection closes.
     * Made when the first stdin arrives (most connections send none; see {@link #stdinBudget()}).
     */
    private volatile InputBudget stdinBudget;
    /** Set when the connection stops being open, before its budget (if any) is closed. */
    private volatile boolean closing;
    /** The idle timeout has started the close; only {@link #watch()} reads and writes it. */
    private boolean idleClosed;

    /** @param admission this connection's pass through the access policy: the only way to start a job */
    Session(ExecEndpoint endpoint, WebSocket webSocket, Server.Peer peer, AccessPolicy.Admission admission) {
        this.endpoint = endpoint;
        this.webSocket = webSocket;
        this.peer = peer;
        this.admission = admission;
    }

    WebSocket webSocket() {
        return webSocket;
    }

    ExecEndpoint.Config config() {
        return endpoint.config();
    }

    /**
     * Registers what the connection's end does: however the connection ends — a Close frame, end
     * of stream, a reset, ping silence, the close timeout, a server stop — its jobs end at that
     * moment, even if the session's thread is waiting for stdin room or the closing handshake is
     * held up by a peer that reads nothing.
     */
    void start() {
        webSocket.onClosing(() -> {
            closing = true;
            InputBudget budget = stdinBudget;
            if (budget != null) {
                budget.close();
            }
            terminateAll();
            detachAll(); // kept jobs run on: only this connection's watching ends
        });
    }

    @Override
    public boolean message(Message message) {
        lastActivityNanos = System.nanoTime();
        switch (message) {
            case Message.Text text -> onText(text.text());
            case Message.Binary binary -> error(null, "bad_request", "binary messages are not part of the protocol");
            default -> {
            }
        }
        return true;
    }

    /**
     * Yes: a message may start a process, wait for a lock or for stdin room, and the session's
     * messages are few (one per job, or per piece of stdin); an idle connection then parks on a
     * thread whose stack never held all that.
     */
    @Override
    public boolean freshThreadAfterMessage() {
        return true;
    }

    @Override
    public void ended() {
        terminateAll();
        detachAll();
        endpoint.ended(this);
    }

    /**
     * Closes the connection (1000) once it has had no running job and no message from the client
     * for the idle timeout. Pings and Pongs are not activity: they only prove the peer is alive.
     * Called at the keepalive's looks ({@link KeepAlive}): returns the nanoseconds until it should
     * look again, or -1.
     */
    @Override
    public long watch() {
        if (idleClosed || config().idleTimeout().isZero() || webSocket.state() != WebSocket.State.OPEN) {
            return -1;
        }
        long timeout = config().idleTimeout().toNanos();
        long wait = lastActivityNanos + timeout - System.nanoTime();
        if (wait > 0) {
            return wait;
        }
        if (!jobs.isEmpty()) {
            lastActivityNanos = System.nanoTime(); // a running job is activity; look again later
            return timeout;
        }
        idleClosed = true;
        Log.info("connection " + peer + " closed after " + config().idleTimeout().toMillis() + " ms idle");
        // The Close frame is a send, which may block: not on the watches' thread.
        Thread.ofVirtual().name("wsexec-idle-close-" + peer.port())
                .start(() -> webSocket.close(CloseCode.NORMAL_CLOSURE, "idle timeout"));
        return -1;
    }

    private void onText(String text) {
        String trimmed = text.strip();
        if (!trimmed.startsWith("{")) {
            // Not JSON: the text is the command itself (as with wscat: type "ls", get its output).
            if (trimmed.isEmpty()) {
                error(null, "bad_request", "empty command");
                return;
            }
            exec("auto-" + ++autoIds, List.of("/bin/sh", "-c", text), null, Map.of(), config().jobTimeout().toMillis(), false, false, null);
            return;
        }
        Map<String, Object> request;
        try {
            Object parsed = Json.parse(text);
            if (!(parsed instanceof Map<?, ?>)) {
                error(null, "bad_request", "expected a JSON object");
                return;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> object = (Map<String, Object>) parsed;
            request = object;
        } catch (Json.ParseException e) {
            error(null, "bad_request", "malformed JSON: " + e.getMessage());
            return;
        }
        try {
            dispatch(request);
        } catch (BadRequest e) {
            error(e.id, e.code, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A request that cannot be carried out; becomes an {@code error} event. */
    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final String id;
        final String code;

        BadRequest(String id, String code, String message) {
            super(message, null, false, false);
            this.id = id;
            this.code = code;
        }
    }

    private void dispatch(Map<String, Object> request) throws BadRequest, InterruptedException {
        Object type = request.get("type");
        String id = idOf(request);
        if (!(type instanceof String t)) {
            throw new BadRequest(id, "bad_request", "missing \"type\"");
        }
        switch (t) {
            case "exec" -> onExec(id == null ? "auto-" + ++autoIds : id, request);
            case "stdin" -> {
                Job job = runningJob(id);
                Object eof = request.get("eof");
                Object data = request.get("data");
                Object base64 = request.get("base64");
                if ((data != null && !(data instanceof String)) || (base64 != null && !(base64 instanceof String))) {
                    throw new BadRequest(id, "bad_request", "\"data\" and \"base64\" must be strings");
                }
                byte[] bytes = null;
                if (base64 != null) {
                    try {
                        bytes = java.util.Base64.getDecoder().decode((String) base64);
                    } catch (IllegalArgumentException e) {
                        throw new BadRequest(id, "bad_request", "\"base64\" is not valid base64");
                    }
                }
                if (data != null && !job.writeStdin(((String) data).getBytes(StandardCharsets.UTF_8), stdinBudget())) {
                    return; // the connection closed meanwhile
                }
                if (bytes != null && !job.writeStdin(bytes, stdinBudget())) {
                    return;
                }
                if (Boolean.TRUE.equals(eof)) {
                    job.closeStdinLater();
                }
            }
            case "attach" -> onAttach(id, request);
            case "detach" -> {
                Attachment attachment = id == null ? null : attachments.find(id);
                if (attachment == null) {
                    throw new BadRequest(id, "unknown_job", "no attachment with id \"" + id + "\"");
                }
                attachment.detach();
                send(Json.object().field("type", "detached").field("id", id).field("job", attachment.kept.id).toString());
            }
            case "jobs" -> {
                StringBuilder list = new StringBuilder("[");
                for (KeptJobs.Kept k : endpoint.kept().all()) {
                    list.append(list.length() > 1 ? "," : "").append(k.describe());
                }
                send(Json.object().field("type", "jobs").field("id", id).raw("jobs", list.append(']').toString()).toString());
            }
            case "signal" -> {
                Job job = runningJob(id);
                Object name = request.get("signal");
                JobSignal signal = name instanceof String s ? JobSignal.byName(s) : null;
                if (signal == null) {
                    throw new BadRequest(id, "bad_request", "\"signal\" must be one of INT, TERM, KILL, HUP, QUIT");
                }
                job.signal(signal);
            }
            default -> throw new BadRequest(id, "unknown_type", "unknown message type \"" + t + "\"");
        }
    }

    /**
     * The connection's stdin budget, made on first use. Only the session's thread calls this. A
     * budget made while the connection is closing is closed at once: the closing listener sets
     * {@link #closing} before it reads {@link #stdinBudget}, and this reads {@link #closing} after
     * it writes {@link #stdinBudget}, so one of the two sees the other (both are volatile).
     */
    private InputBudget stdinBudget() {
        InputBudget budget = stdinBudget;
        if (budget == null) {
            budget = new InputBudget(config().stdinBuffer());
            stdinBudget = budget;
            if (closing) {
                budget.close();
            }
        }
        return budget;
    }

    private String idOf(Map<String, Object> request) throws BadRequest {
        Object id = request.get("id");
        if (id == null) {
            return null;
        }
        String text = id instanceof String s ? s : id instanceof Long n ? n.toString() : null;
        if (text == null || text.isEmpty() || text.length() > MAX_ID_LENGTH) {
            throw new BadRequest(null, "bad_request", "\"id\" must be a non-empty string of at most " + MAX_ID_LENGTH + " characters");
        }
        return text;
    }

    private Job runningJob(String id) throws BadRequest {
        if (id == null) {
            throw new BadRequest(null, "bad_request", "missing \"id\"");
        }
        Attachment attachment = attachments.find(id);
        if (attachment != null) {
            if (attachment.readOnly) {
                throw new BadRequest(id, "read_only", "attachment \"" + id + "\" is read-only: no stdin, no signals");
            }
            return attachment.kept.job;
        }
        Job job = jobs.find(id);
        if (job == null) {
            throw new BadRequest(id, "unknown_job", "no running job with id \"" + id + "\"");
        }
        return job;
    }

    private void onExec(String id, Map<String, Object> request) throws BadRequest {
        Object command = request.get("command");
        Object argv = request.get("argv");
        List<String> line;
        if (command instanceof String c && argv == null) {
            if (c.isBlank()) {
                throw new BadRequest(id, "bad_request", "empty command");
            }
            line = List.of("/bin/sh", "-c", c);
        } else if (argv instanceof List<?> list && command == null) {
            if (list.isEmpty() || !list.stream().allMatch(a -> a instanceof String)) {
                throw new BadRequest(id, "bad_request", "\"argv\" must be a non-empty array of strings");
            }
            line = new ArrayList<>();
            for (Object a : list) {
                line.add((String) a);
            }
        } else {
            throw new BadRequest(id, "bad_request", "give exactly one of \"command\" (a string) or \"argv\" (an array)");
        }
        File cwd = null;
        Object dir = request.get("cwd");
        if (dir != null) {
            if (!(dir instanceof String d) || !Files.isDirectory(Path.of(d))) {
                throw new BadRequest(id, "bad_cwd", "working directory does not exist: " + dir);
            }
            cwd = new File(d);
        }
        Map<String, String> env = new java.util.LinkedHashMap<>();
        Object envObject = request.get("env");
        if (envObject != null) {
            if (!(envObject instanceof Map<?, ?> m)) {
                throw new BadRequest(id, "bad_request", "\"env\" must be an object of strings");
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getValue() instanceof String v)) {
                    throw new BadRequest(id, "bad_request", "\"env\" must be an object of strings");
                }
                env.put((String) e.getKey(), v);
            }
        }
        long timeoutMs = config().jobTimeout().toMillis();
        Object t = request.get("timeoutMs");
        if (t != null) {
            if (!(t instanceof Long ms) || ms <= 0) {
                throw new BadRequest(id, "bad_request", "\"timeoutMs\" must be a positive integer");
            }
            timeoutMs = timeoutMs > 0 ? Math.min(timeoutMs, ms) : ms;
        }
        boolean pty = Boolean.TRUE.equals(request.get("pty"));
        Object binary = request.get("binary");
        if (binary != null && !(binary instanceof Boolean)) {
            throw new BadRequest(id, "bad_request", "\"binary\" must be true or false");
        }
        if (Boolean.TRUE.equals(binary) && id.getBytes(StandardCharsets.UTF_8).length > OutputPump.MAX_BINARY_ID_BYTES) {
            throw new BadRequest(id, "bad_request", "with \"binary\" the id must be at most " + OutputPump.MAX_BINARY_ID_BYTES + " bytes of UTF-8");
        }
        Duration keep = null;
        Object keepText = request.get("keep");
        if (keepText != null) {
            keep = keepDuration(id, keepText);
        }
        exec(id, line, cwd, env, timeoutMs, pty, Boolean.TRUE.equals(binary), keep);
    }

    /** {@code "keep":"90s"}: a duration up to {@code --keep-max}. */
    private Duration keepDuration(String id, Object text) throws BadRequest {
        Duration keep = text instanceof String t ? Durations.parse(t) : null;
        if (keep == null || keep.isZero() || keep.isNegative()) {
            throw new BadRequest(id, "bad_request", "\"keep\" must be a duration such as \"90s\", \"10m\" or \"2h\"");
        }
        if (keep.compareTo(config().keep().max()) > 0) {
            throw new BadRequest(id, "bad_request", "\"keep\" is at most " + config().keep().max().toSeconds() + " s (--keep-max)");
        }
        return keep;
    }

    /** @param binary send the job's output as binary frames (docs/PROTOCOL.md, "Binary output") */
    private void exec(String id, List<String> line, File cwd, Map<String, String> env, long timeoutMs, boolean pty, boolean binary,
                      Duration keep) {
        ProcessBuilder builder;
        try {
            // The command policy first: a forbidden command takes no job slot and learns nothing about the programs here.
            builder = admission.job(line, pty, config().lineBuffered(), env.containsKey("PATH"));
        } catch (AccessPolicy.Forbidden e) {
            Log.event("job.forbidden", "job " + id + " forbidden for " + peer, "peer", peer.toString(), "id", id);
            error(id, "forbidden", e.getMessage());
            return;
        }
        if (resolveProgram(line.get(0)) == null) {
            error(id, "not_found", "program not found: " + line.get(0));
            return;
        }
        if (jobs.contains(id) || attachments.contains(id)) {
            error(id, "duplicate_id", "a job with id \"" + id + "\" is still running");
            return;
        }
        if (jobs.size() >= config().maxJobsPerConnection()) {
            error(id, "too_many_jobs", "this connection already runs " + jobs(config().maxJobsPerConnection()) + " (--max-jobs-per-connection)");
            return;
        }
        KeptJobs.Kept kept = null;
        if (keep != null) {
            kept = endpoint.kept().reserve(String.join(" ", line.size() == 3 && line.get(1).equals("-c") ? line.subList(2, 3) : line), keep);
            if (kept == null) {
                error(id, "too_many_jobs", "the server already keeps " + jobs(config().keep().maxJobs()) + " (--max-kept-jobs)");
                return;
            }
        }
        if (!endpoint.reserveJob()) {
            if (kept != null) {
                endpoint.kept().forget(kept);
            }
            error(id, "too_many_jobs", "the server already runs " + jobs(config().maxJobs()) + " (--max-jobs)");
            return;
        }
        String jobId = kept != null ? kept.id : KeptJobs.newId(endpoint.instance());
        Process process;
        try {
            if (cwd != null) {
                builder.directory(cwd);
            }
            if (config().lineBuffered() && !pty) {
                builder.environment().putAll(Commands.lineBufferedEnvironment(builder.environment().get("LD_PRELOAD")));
            }
            builder.environment().putAll(env);
            // Every job knows where it runs and under which server-wide id (issue #22).
            builder.environment().put("WSEXEC_INSTANCE", endpoint.instance());
            builder.environment().put("WSEXEC_JOB", jobId);
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            endpoint.releaseJob();
            if (kept != null) {
                endpoint.kept().forget(kept);
            }
            error(id, "spawn_failed", "cannot start process: " + e.getMessage());
            return;
        }
        if (kept != null) {
            Job job = new Job(kept, kept.id, process, pty && ProcessGroups.SCRIPT != null);
            kept.job = job;
            Attachment attachment = new Attachment(id, kept, binary);
            attachments.put(id, attachment);
            endpoint.metrics().jobStarted();
            Log.event("job.started", "kept job " + kept.id + " started (pid " + process.pid() + ") for " + peer + " as " + id,
                    "peer", peer.toString(), "id", id, "job", kept.id, "instance", endpoint.instance(), "pid", process.pid());
            Events.jobStarted(kept.id, process.pid());
            send(Json.object().field("type", "started").field("id", id).field("job", kept.id).field("instance", endpoint.instance())
                    .field("pid", process.pid()).toString());
            attachment.start();
            job.start(timeoutMs);
            return;
        }
        Job job = new Job(jobHost(binary), id, process, pty && ProcessGroups.SCRIPT != null);
        jobs.put(id, job);
        endpoint.metrics().jobStarted();
        Log.event("job.started", "job " + id + " started (pid " + process.pid() + ") for " + peer,
                "peer", peer.toString(), "id", id, "job", jobId, "instance", endpoint.instance(), "pid", process.pid());
        Events.jobStarted(id, process.pid());
        send(Json.object().field("type", "started").field("id", id).field("job", jobId).field("instance", endpoint.instance())
                .field("pid", process.pid()).toString());
        job.start(timeoutMs);
    }

    /** This connection as the host of one job: output to this socket, the exit as an event. */
    private Job.Host jobHost(boolean binary) {
        return new Job.Host() {
            @Override
            public java.time.Duration linger() {
                return config().linger();
            }

            @Override
            public java.time.Duration killGrace() {
                return config().killGrace();
            }

            @Override
            public void pump(Job job, java.io.InputStream pipe, String stream) {
                new OutputPump(pipe, webSocket, job.id, stream, binary).run();
            }

            @Override
            public void finished(Job job, Job.Exit exit) {
                jobFinished(job, exit);
            }
        };
    }

    /** The {@code exit} event of a job, under the id this connection knows it by. */
    private static String exitEvent(String id, Job.Exit end) {
        Json.ObjectWriter exit = Json.object().field("type", "exit").field("id", id).field("code", end.code());
        if (end.signal() != null) {
            exit.field("signal", end.signal().name());
        }
        if (end.reason() != null) {
            exit.field("reason", end.reason());
        }
        exit.field("durationMs", end.durationMs());
        return exit.toString();
    }

    /** Called by the job's own thread once all its output is sent and the process has exited. */
    private void jobFinished(Job job, Job.Exit end) {
        String exitEvent = exitEvent(job.id, end);
        int code = end.code();
        long durationMs = end.durationMs();
        jobs.remove(job.id, job);
        lastActivityNanos = System.nanoTime();
        endpoint.releaseJob();
        endpoint.metrics().jobExited(code);
        Log.event("job.exited", "job " + job.id + " exited with " + code + " after " + durationMs + " ms",
                "peer", peer.toString(), "id", job.id, "code", code, "durationMs", durationMs);
        Events.jobEnded(job.id, job.pid(), code, durationMs);
        send(exitEvent);
    }

    /** {@code attach}: watch a kept job under this connection's own id, from an offset. */
    private void onAttach(String id, Map<String, Object> request) throws BadRequest {
        if (id == null) {
            throw new BadRequest(null, "bad_request", "missing \"id\"");
        }
        Object jobId = request.get("job");
        KeptJobs.Kept kept = jobId instanceof String j ? endpoint.kept().get(j) : null;
        if (kept == null || kept.job == null) {
            throw new BadRequest(id, "no_such_job", "no kept job " + (jobId instanceof String j ? "\"" + j + "\"" : "given")
                    + " (unknown, expired, or not started with \"keep\")");
        }
        if (jobs.contains(id) || attachments.contains(id)) {
            throw new BadRequest(id, "duplicate_id", "the id \"" + id + "\" is in use on this connection");
        }
        Object readOnly = request.get("readOnly");
        Object binary = request.get("binary");
        if ((readOnly != null && !(readOnly instanceof Boolean)) || (binary != null && !(binary instanceof Boolean))) {
            throw new BadRequest(id, "bad_request", "\"readOnly\" and \"binary\" must be true or false");
        }
        if (Boolean.TRUE.equals(binary) && id.getBytes(StandardCharsets.UTF_8).length > OutputPump.MAX_BINARY_ID_BYTES) {
            throw new BadRequest(id, "bad_request", "with \"binary\" the id must be at most " + OutputPump.MAX_BINARY_ID_BYTES + " bytes of UTF-8");
        }
        Object from = request.get("from");
        long fromOut;
        long fromErr;
        if (from == null || "start".equals(from)) {
            fromOut = 0;
            fromErr = 0;
        } else if ("now".equals(from)) {
            fromOut = kept.stdout.end();
            fromErr = kept.stderr.end();
        } else if (from instanceof Map<?, ?> offsets && offsets.get("stdout") instanceof Long o && offsets.get("stderr") instanceof Long e
                && o >= 0 && e >= 0) {
            fromOut = o;
            fromErr = e;
        } else {
            throw new BadRequest(id, "bad_request", "\"from\" must be \"start\", \"now\" or {\"stdout\":N,\"stderr\":M}");
        }
        Attachment attachment = new Attachment(id, kept, Boolean.TRUE.equals(readOnly), Boolean.TRUE.equals(binary), fromOut, fromErr);
        attachments.put(id, attachment);
        Log.event("job.attached", "kept job " + kept.id + " attached by " + peer + " as " + id + (attachment.readOnly ? " (read-only)" : ""),
                "peer", peer.toString(), "id", id, "job", kept.id);
        send(Json.object().field("type", "started").field("id", id).field("job", kept.id).field("instance", endpoint.instance())
                .field("pid", kept.job.pid())
                .field("readOnly", attachment.readOnly).toString());
        attachment.start();
    }

    /**
     * This connection watching a kept job: a cursor into each of its logs, pumped to the socket
     * by a pipe thread each, then the job's
     * {@code exit}. A read-write attachment holds the job back when it lags (backpressure, as
     * for a job that is not kept); a read-only one never does.
     */
    private final class Attachment {
        final String id;
        final KeptJobs.Kept kept;
        final boolean readOnly;
        final boolean binary;
        /** Null for the starter, whose pumps run on the job's pipe threads (see {@link KeptJobs.Kept#starterStdout}). */
        final wsexec.job.OutputLog.Cursor out;
        final wsexec.job.OutputLog.Cursor err;
        volatile boolean detached;

        Attachment(String id, KeptJobs.Kept kept, boolean readOnly, boolean binary, long fromOut, long fromErr) {
            this.id = id;
            this.kept = kept;
            this.readOnly = readOnly;
            this.binary = binary;
            this.out = kept.stdout.cursor(fromOut, !readOnly);
            this.err = kept.stderr.cursor(fromErr, !readOnly);
        }

        /** The connection that starts a kept job: read-write, from the first byte, pumped on the pipe threads. */
        Attachment(String id, KeptJobs.Kept kept, boolean binary) {
            this.id = id;
            this.kept = kept;
            this.readOnly = false;
            this.binary = binary;
            this.out = null;
            this.err = null;
            kept.starterStdout = throughLog -> new OutputPump(throughLog, webSocket, id, "stdout", binary, 0, () -> detached).run();
            kept.starterStderr = throughLog -> new OutputPump(throughLog, webSocket, id, "stderr", binary, 0, () -> detached).run();
        }

        void start() {
            kept.attach(this);
            if (out == null) {
                PipeThreads.start("attach-" + kept.id + "-exit", () -> {
                    try {
                        kept.starterDone.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    finish(kept.starterDelivered);
                });
                return;
            }
            // Pipe threads, as for a job's own pumps: a cursor waits on a lock, which a virtual thread
            // could do, but the socket writes of a bulk stream from a virtual thread go through the
            // poller at every full socket buffer; measured (bench W1/W3 "kept job") that cost more
            // than the log itself.
            PipeThreads.start("attach-" + kept.id + "-stdout", () -> {
                PipeThreads.Task stderr = PipeThreads.start("attach-" + kept.id + "-stderr",
                        () -> new OutputPump(err, webSocket, id, "stderr", binary, err.offset()).run());
                boolean delivered = new OutputPump(out, webSocket, id, "stdout", binary, out.offset()).run();
                stderr.join();
                finish(delivered);
            });
        }

        /** Both streams are sent to their end: the job's {@code exit} follows, unless we left. */
        private void finish(boolean delivered) {
            if (!delivered || detached) {
                return;
            }
            Job.Exit end = kept.exit.join(); // both logs are at their end: the process has exited or is about to
            if (detached || !attachments.remove(id, this)) {
                return;
            }
            kept.detach(this);
            lastActivityNanos = System.nanoTime();
            send(exitEvent(id, end));
        }

        void detach() {
            detached = true;
            if (out != null) {
                out.close();
                err.close();
            }
            attachments.remove(id, this);
            kept.detach(this);
        }
    }

    /** Stops watching every kept job: they run on, and are kept for their keep time from now. */
    private void detachAll() {
        for (Attachment attachment : attachments.values()) {
            attachment.detach();
        }
    }

    /** Ends every running job of this connection: TERM now, KILL after the grace. */
    void terminateAll() {
        Job.terminateAll(jobs.values());
    }

    private static String jobs(int count) {
        return count + (count == 1 ? " job" : " jobs");
    }

    private void error(String id, String code, String message) {
        send(Json.object().field("type", "error").field("id", id).field("code", code).field("message", message).toString());
    }

    private void send(String event) {
        try {
            webSocket.sendText(event);
        } catch (IOException e) {
            // The connection is gone; the read loop ends and the jobs are torn down.
        }
    }

    /** Finds a program the way execvp would: a path as given, or the first match on PATH. */
    static String resolveProgram(String name) {
        if (name.contains("/")) {
            return Files.isExecutable(Path.of(name)) && !Files.isDirectory(Path.of(name)) ? name : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    /**
     * A connection's jobs or attachments by id. An immutable map, replaced whole on every change:
     * they change once or twice per job, and between jobs a connection then holds no table at all
     * (a {@code ConcurrentHashMap} keeps the table of its largest size; with thousands of idle
     * connections each one counts). The session's thread adds; any thread may remove or read.
     */
    private static final class Ids<V> extends AtomicReference<Map<String, V>> {
        private static final long serialVersionUID = 1L;

        Ids() {
            super(Map.of());
        }

        V find(String id) {
            return get().get(id);
        }

        boolean contains(String id) {
            return get().containsKey(id);
        }

        int size() {
            return get().size();
        }

        boolean isEmpty() {
            return get().isEmpty();
        }

        /** A snapshot: what changes later is not in it. */
        List<V> values() {
            return List.copyOf(get().values());
        }

        void put(String id, V value) {
            updateAndGet(map -> {
                Map<String, V> next = new HashMap<>(map);
                next.put(id, value);
                return Map.copyOf(next);
            });
        }

        /** Removes the entry if {@code id} still maps to {@code value}; whether it did. */
        boolean remove(String id, V value) {
            while (true) {
                Map<String, V> map = get();
                if (map.get(id) != value) {
                    return false;
                }
                Map<String, V> next = new HashMap<>(map);
                next.remove(id);
                if (compareAndSet(map, Map.copyOf(next))) {
                    return true;
                }
            }
        }
    }
}
