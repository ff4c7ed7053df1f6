/**
 * wsexec: run shell commands on a server and stream their output over WebSocket.
 *
 * <p>Only the RFC 6455 layer, {@link wsexec.websocket}, is exported: it imports nothing else of
 * this program and can be embedded on its own (docs/EMBED.md). The server, jobs, client and
 * command line are this program's inside and may change freely; run them with
 * {@code java -jar wsexec.jar} or {@code java -p wsexec.jar -m wsexec}.
 */
module wsexec {
    requires java.net.http;
    requires jdk.jfr;

    exports wsexec.websocket;
}
