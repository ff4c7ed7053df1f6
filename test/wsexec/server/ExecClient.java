package wsexec.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import wsexec.websocket.RawClient;
import wsexec.websocket.Opcode;
import wsexec.common.Json;

/**
 * Speaks the exec protocol over a {@link RawClient}: sends JSON, reads events
 * as maps, and collects a job's output and exit. For tests that need to see
 * every event (the {@code run} client shows only what a user sees).
 */
public final class ExecClient implements AutoCloseable {
    /** One event from the server, with the time it was read. */
    public record Event(long nanos, Map<String, Object> fields, String json) {
        public Object get(String name) {
            return fields.get(name);
        }

        public String type() {
            return String.valueOf(fields.get("type"));
        }

        public String id() {
            return fields.get("id") == null ? null : String.valueOf(fields.get("id"));
        }

        /** The bytes of an {@code output} event. */
        public byte[] bytes() {
            if (fields.get("data") instanceof String data) {
                return data.getBytes(StandardCharsets.UTF_8);
            }
            return Base64.getDecoder().decode((String) fields.get("base64"));
        }
    }

    /** Everything one job sent, up to and including its {@code exit}. */
    public record Finished(List<Event> events, byte[] stdout, byte[] stderr, Event exit) {
        public int code() {
            return ((Long) exit.get("code")).intValue();
        }

        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }

        public List<Event> outputs() {
            return events.stream().filter(e -> e.type().equals("output")).toList();
        }
    }

    final RawClient raw;
    /** Events read while looking for another job's: handed out first by {@link #next()}. */
    private final List<Event> pending = new ArrayList<>();

    private ExecClient(RawClient raw) {
        this.raw = raw;
    }

    public static ExecClient open(int port) throws IOException {
        return new ExecClient(RawClient.open(port));
    }

    public void send(String json) throws IOException {
        raw.sendText(json);
    }

    /** Sends {@code exec} for a shell command with extra raw JSON fields (e.g. {@code ,"pty":true}). */
    public void exec(String id, String command, String extraFields) throws IOException {
        StringBuilder json = new StringBuilder("{\"type\":\"exec\",\"id\":");
        Json.quote(json, id).append(",\"command\":");
        Json.quote(json, command).append(extraFields).append('}');
        send(json.toString());
    }

    public void exec(String id, String command) throws IOException {
        exec(id, command, "");
    }

    /** The next event, or null if the connection closed; fails on a Close frame's absence of events only by returning null. */
    public Event next() throws IOException {
        if (!pending.isEmpty()) {
            return pending.remove(0);
        }
        while (true) {
            RawClient.Frame frame = raw.readFrame();
            if (frame == null || frame.opcode() == Opcode.CLOSE) {
                return null;
            }
            if (frame.opcode() != Opcode.TEXT) {
                continue;
            }
            String text = frame.text();
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> fields = (Map<String, Object>) Json.parse(text);
                return new Event(System.nanoTime(), fields, text);
            } catch (Json.ParseException e) {
                throw new IOException("server sent bad JSON: " + text, e);
            }
        }
    }

    /** The next event of the given job (events of other jobs are kept for later). */
    public Event nextOf(String id) throws IOException {
        for (int i = 0; i < pending.size(); i++) {
            if (id.equals(pending.get(i).id())) {
                return pending.remove(i);
            }
        }
        while (true) {
            RawClient.Frame frame = raw.readFrame();
            if (frame == null || frame.opcode() == Opcode.CLOSE) {
                return null;
            }
            String text = frame.text();
            Event e;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> fields = (Map<String, Object>) Json.parse(text);
                e = new Event(System.nanoTime(), fields, text);
            } catch (Json.ParseException ex) {
                throw new IOException("server sent bad JSON: " + text, ex);
            }
            if (id.equals(e.id())) {
                return e;
            }
            pending.add(e);
        }
    }

    /** Reads the job's events until its {@code exit} (or an {@code error} for it). */
    public Finished awaitExit(String id) throws IOException {
        List<Event> events = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        while (true) {
            Event e = nextOf(id);
            if (e == null) {
                throw new IOException("connection ended before job " + id + " exited; events: " + events);
            }
            events.add(e);
            switch (e.type()) {
                case "output" -> ("stderr".equals(e.get("stream")) ? err : out).writeBytes(e.bytes());
                case "exit", "error" -> {
                    return new Finished(List.copyOf(events), out.toByteArray(), err.toByteArray(), e);
                }
                default -> {
                }
            }
        }
    }

    /** Runs a shell command to the end on this connection. */
    public Finished run(String id, String command) throws IOException {
        exec(id, command);
        return awaitExit(id);
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }
}
