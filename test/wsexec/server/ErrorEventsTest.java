package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.Opcode;
import wsexec.client.Client;
import wsexec.client.Clients;

/** Bad requests become {@code error} events; the connection and its running jobs carry on. */
@Timeout(30)
class ErrorEventsTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.exec();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void everyBadRequestGetsAClearErrorAndNothingElseStops() throws Exception {
        try (ExecClient client = ExecClient.open(server.port())) {
            client.exec("job", "cat");
            assertEquals("started", client.nextOf("job").type());

            expectError(client, "{\"type\":\"exec\",", null, "bad_request", "malformed JSON");
            expectError(client, "{\"id\":\"x\"}", "x", "bad_request", "missing \"type\"");
            expectError(client, "{\"type\":\"launch\",\"id\":\"x\"}", "x", "unknown_type", "unknown message type \"launch\"");
            expectError(client, "{\"type\":\"signal\",\"id\":\"nope\",\"signal\":\"INT\"}", "nope", "unknown_job", "no running job with id \"nope\"");
            expectError(client, "{\"type\":\"stdin\",\"id\":\"nope\",\"data\":\"x\"}", "nope", "unknown_job", "no running job");
            expectError(client, "{\"type\":\"exec\",\"id\":\"m\",\"argv\":[\"no-such-program-wsexec\",\"x\"]}", "m", "not_found",
                    "program not found: no-such-program-wsexec");
            expectError(client, "{\"type\":\"exec\",\"id\":\"d\",\"command\":\"pwd\",\"cwd\":\"/no/such/dir\"}", "d", "bad_cwd",
                    "working directory does not exist: /no/such/dir");
            expectError(client, "{\"type\":\"exec\",\"id\":\"job\",\"command\":\"true\"}", "job", "duplicate_id", "still running");
            expectError(client, "{\"type\":\"signal\",\"id\":\"job\",\"signal\":\"STOP\"}", "job", "bad_request", "INT, TERM, KILL");
            client.raw.sendFrame(true, Opcode.BINARY, new byte[] {1, 2, 3});
            ExecClient.Event binary = client.next();
            assertEquals("error", binary.type());
            assertTrue(((String) binary.get("message")).contains("binary"), binary.json());

            // The connection still works, and so does the job started before all this.
            assertEquals("fine\n", client.run("later", "echo fine").out());
            client.send("{\"type\":\"stdin\",\"id\":\"job\",\"data\":\"still running\\n\",\"eof\":true}");
            ExecClient.Finished job = client.awaitExit("job");
            assertEquals("still running\n", job.out());
            assertEquals(0, job.code());
        }
    }

    @Test
    void theRunClientShowsTheErrorMessage() {
        Clients.Result missing = Clients.main(new byte[0], "run", "--url", server.url(), "--cwd", "/no/such/dir", "--", "pwd");
        assertTrue(missing.err().contains("working directory does not exist: /no/such/dir"), missing.err());
        assertEquals(Client.FAILED, missing.status());
        assertEquals(0, missing.stdout().length);
        assertEquals("ok", new String(Clients.run(server.url(), "printf ok").stdout(), StandardCharsets.UTF_8));
    }

    static void expectError(ExecClient client, String request, String id, String code, String messagePart) throws Exception {
        client.send(request);
        ExecClient.Event e = client.next();
        assertEquals("error", e.type(), "for " + request + ": " + e.json());
        assertEquals(id, e.id(), e.json());
        assertEquals(code, e.get("code"), e.json());
        assertTrue(((String) e.get("message")).contains(messagePart), "unclear message for " + request + ": " + e.json());
    }
}
