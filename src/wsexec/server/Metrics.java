package wsexec.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import wsexec.common.Json;
import wsexec.common.Version;

/**
 * The server's counters, exposed at {@code GET /metrics} in the Prometheus
 * text format (version 0.0.4) and summarised at {@code GET /healthz}.
 * Counters are {@link LongAdder}s: many connections add to them at once.
 * Every label has a small, fixed set of values (reasons, statuses, exit classes),
 * except close codes, which the RFC bounds to 1000–4999.
 */
final class Metrics {
    final long startMillis = System.currentTimeMillis();
    final AtomicLong connectionsOpen = new AtomicLong();
    final LongAdder connectionsTotal = new LongAdder();
    final Labelled connectionsRejected = new Labelled("reason");
    final AtomicLong jobsRunning = new AtomicLong();
    final Labelled jobsTotal = new Labelled("exit");
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder framesIn = new LongAdder();
    final LongAdder framesOut = new LongAdder();
    // permessage-deflate (RFC 7692): payload bytes of compressed messages before and after compression
    final LongAdder deflateOutUncompressed = new LongAdder();
    final LongAdder deflateOutCompressed = new LongAdder();
    final LongAdder deflateInUncompressed = new LongAdder();
    final LongAdder deflateInCompressed = new LongAdder();
    final Labelled handshakeFailures = new Labelled("status");
    final Labelled closeCodesSent = new Labelled("code");
    final Labelled closeCodesReceived = new Labelled("code");

    /** A counter split by one label. */
    static final class Labelled {
        final String label;
        final Map<String, LongAdder> values = new ConcurrentHashMap<>();

        Labelled(String label) {
            this.label = label;
        }

        void increment(String value) {
            values.computeIfAbsent(value, v -> new LongAdder()).increment();
        }

        long get(String value) {
            LongAdder adder = values.get(value);
            return adder == null ? 0 : adder.sum();
        }
    }

    /** Why a connection was refused before the upgrade, as a label. */
    static String rejectionReason(int status) {
        return switch (status) {
            case 401 -> "token";
            case 403 -> "origin";
            case 421 -> "host";
            case 429 -> "max_connections_per_address";
            case 503 -> "max_connections";
            case 408 -> "handshake_timeout";
            case 431 -> "head_too_large";
            default -> "bad_handshake";
        };
    }

    void jobStarted() {
        jobsRunning.incrementAndGet();
    }

    void jobExited(int code) {
        jobsRunning.decrementAndGet();
        jobsTotal.increment(exitClass(code));
    }

    /** The body of {@code GET /healthz}. */
    String health() {
        return Json.object().field("status", "ok").field("instance", instance).field("version", Version.VERSION).field("uptimeSeconds", uptimeSeconds())
                .field("connections", connectionsOpen.get()).field("runningJobs", jobsRunning.get()).toString() + "\n";
    }

    /** How a job ended, as a label: ok (0), error (1–128), signal (above 128). */
    static String exitClass(int code) {
        return code == 0 ? "ok" : code > 128 ? "signal" : "error";
    }

    long uptimeSeconds() {
        return (System.currentTimeMillis() - startMillis) / 1000;
    }

    /** What the registry of kept jobs reports; none until an exec endpoint attaches. */
    interface KeptGauges {
        long keptJobs();

        long attachments();

        long logBytesHeld();

        long logBytesOverwritten();
    }

    volatile KeptGauges kept;
    /** This server's name among instances ({@code --instance}). */
    volatile String instance = "wsexec";

    /** The Prometheus text exposition of every counter. */
    String prometheus() {
        StringBuilder out = new StringBuilder(2048);
        out.append("# HELP wsexec_info This server: its instance name and version.\n# TYPE wsexec_info gauge\n")
                .append("wsexec_info{instance=\"").append(instance).append("\",version=\"").append(Version.VERSION).append("\"} 1\n");
        gauge(out, "wsexec_connections_open", "Open WebSocket connections.", connectionsOpen.get());
        counter(out, "wsexec_connections_total", "WebSocket connections accepted since start.", connectionsTotal.sum());
        counter(out, "wsexec_connections_rejected_total", "Connections refused before the upgrade, by reason.", connectionsRejected);
        gauge(out, "wsexec_jobs_running", "Jobs running now.", jobsRunning.get());
        counter(out, "wsexec_jobs_total", "Jobs finished, by exit class (ok, error, signal).", jobsTotal);
        counter(out, "wsexec_bytes_received_total", "WebSocket frame bytes received (headers and payload).", bytesIn.sum());
        counter(out, "wsexec_bytes_sent_total", "WebSocket frame bytes sent (headers and payload).", bytesOut.sum());
        counter(out, "wsexec_frames_received_total", "WebSocket frames received.", framesIn.sum());
        counter(out, "wsexec_frames_sent_total", "WebSocket frames sent.", framesOut.sum());
        directions(out, "wsexec_deflate_uncompressed_bytes_total",
                "Payload bytes of compressed messages before compression (out) or after inflating (in).",
                deflateOutUncompressed.sum(), deflateInUncompressed.sum());
        directions(out, "wsexec_deflate_compressed_bytes_total",
                "Payload bytes of compressed messages as sent or received (compressed).",
                deflateOutCompressed.sum(), deflateInCompressed.sum());
        gauge(out, "wsexec_deflate_zlib_streams", "Deflaters and Inflaters holding native memory now.",
                wsexec.websocket.PerMessageDeflate.liveZlibStreams());
        counter(out, "wsexec_handshake_failures_total", "Opening handshakes refused, by HTTP status.", handshakeFailures);
        counter(out, "wsexec_close_codes_sent_total", "Close frames sent, by close code.", closeCodesSent);
        counter(out, "wsexec_close_codes_received_total", "Close frames received, by close code.", closeCodesReceived);
        KeptGauges k = kept;
        if (k != null) {
            gauge(out, "wsexec_kept_jobs", "Kept jobs, running or ended and still attachable.", k.keptJobs());
            gauge(out, "wsexec_kept_attachments", "Connections watching kept jobs now.", k.attachments());
            gauge(out, "wsexec_kept_log_bytes", "Output bytes held in kept jobs' logs.", k.logBytesHeld());
            counter(out, "wsexec_kept_gap_bytes_total", "Output bytes kept jobs' logs let go before every reader had them.",
                    k.logBytesOverwritten());
        }
        gauge(out, "wsexec_uptime_seconds", "Seconds since the server started.", uptimeSeconds());
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void directions(StringBuilder out, String name, String help, long sent, long received) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append("{direction=\"in\"} ").append(received).append('\n');
        out.append(name).append("{direction=\"out\"} ").append(sent).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, Labelled labelled) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        new TreeMap<>(labelled.values).forEach((value, adder) -> out.append(name).append('{').append(labelled.label)
                .append("=\"").append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"} ").append(adder.sum()).append('\n'));
    }
}
