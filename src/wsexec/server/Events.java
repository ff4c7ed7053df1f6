package wsexec.server;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JDK Flight Recorder events of the server, for {@code -XX:StartFlightRecording} and {@code jfr print}
 * (README, Operations). Each helper asks {@link Event#shouldCommit()} of an event that is never
 * begun: with recording off, or these events disabled, that is one check and nothing is built
 * beyond the empty event object, which escape analysis removes.
 */
final class Events {
    private Events() {
    }

    @Name("wsexec.ConnectionOpened")
    @Label("Connection Opened")
    @Category({"wsexec", "Connections"})
    @Description("A WebSocket connection completed its opening handshake (101 sent)")
    @StackTrace(false)
    static final class ConnectionOpened extends Event {
        @Label("Remote Address")
        String remoteAddress;
        @Label("Path")
        String path;
    }

    @Name("wsexec.ConnectionClosed")
    @Label("Connection Closed")
    @Category({"wsexec", "Connections"})
    @Description("A WebSocket connection ended")
    @StackTrace(false)
    static final class ConnectionClosed extends Event {
        @Label("Remote Address")
        String remoteAddress;
        @Label("Path")
        String path;
        @Label("Close Code Received")
        @Description("the peer's Close code; 1005 for a Close without one, 1006 for none at all (RFC 6455 §7.1.5)")
        int closeCodeReceived;
        @Label("Close Code Sent")
        @Description("the code of the Close frame the server sent, -1 for none")
        int closeCodeSent;
    }

    @Name("wsexec.HandshakeRefused")
    @Label("Handshake Refused")
    @Category({"wsexec", "Connections"})
    @Description("An opening handshake answered with an HTTP error status instead of 101")
    @StackTrace(false)
    static final class HandshakeRefused extends Event {
        @Label("Remote Address")
        String remoteAddress;
        @Label("HTTP Status")
        int status;
    }

    @Name("wsexec.JobStarted")
    @Label("Job Started")
    @Category({"wsexec", "Jobs"})
    @Description("A job (or a --program process) started")
    @StackTrace(false)
    static final class JobStarted extends Event {
        @Label("Job Id")
        String jobId;
        @Label("Process Id")
        long pid;
    }

    @Name("wsexec.JobEnded")
    @Label("Job Ended")
    @Category({"wsexec", "Jobs"})
    @Description("A job (or a --program process) exited")
    @StackTrace(false)
    static final class JobEnded extends Event {
        @Label("Job Id")
        String jobId;
        @Label("Process Id")
        @Description("-1 where the exit is reported without it")
        long pid;
        @Label("Exit Code")
        int exitCode;
        @Label("Duration (ms)")
        long durationMs;
    }

    static void connectionOpened(Object remote, String path) {
        ConnectionOpened event = new ConnectionOpened();
        if (event.shouldCommit()) {
            event.remoteAddress = String.valueOf(remote);
            event.path = path;
            event.commit();
        }
    }

    static void connectionClosed(Object remote, String path, int received, int sent) {
        ConnectionClosed event = new ConnectionClosed();
        if (event.shouldCommit()) {
            event.remoteAddress = String.valueOf(remote);
            event.path = path;
            event.closeCodeReceived = received;
            event.closeCodeSent = sent;
            event.commit();
        }
    }

    static void handshakeRefused(Object remote, int status) {
        HandshakeRefused event = new HandshakeRefused();
        if (event.shouldCommit()) {
            event.remoteAddress = String.valueOf(remote);
            event.status = status;
            event.commit();
        }
    }

    static void jobStarted(String id, long pid) {
        JobStarted event = new JobStarted();
        if (event.shouldCommit()) {
            event.jobId = id;
            event.pid = pid;
            event.commit();
        }
    }

    static void jobEnded(String id, long pid, int exitCode, long durationMs) {
        JobEnded event = new JobEnded();
        if (event.shouldCommit()) {
            event.jobId = id;
            event.pid = pid;
            event.exitCode = exitCode;
            event.durationMs = durationMs;
            event.commit();
        }
    }
}
