package wsexec.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wsexec.websocket.RawClient;

/**
 * After a burst of connections ends (three quarters of at least {@link Server#HEAP_TRIM_PEAK}
 * closed), the server collects its heap once, so that the memory they used can go back.
 */
@Timeout(120)
class HeapTrimTest {
    @Test
    void aBurstOfConnectionsEndingTriggersOneCollectionAndSmallerOnesNone() throws Exception {
        try (TestServer server = TestServer.exec()) {
            List<RawClient> clients = new ArrayList<>();
            try {
                // Below the threshold: open and close, nothing happens.
                for (int i = 0; i < Server.HEAP_TRIM_PEAK - 1; i++) {
                    clients.add(RawClient.open(server.port()));
                }
                closeAll(clients, clients.size());
                assertTrue(Processes.await(10_000, () -> server.server.openConnections() == 0));
                assertEquals(0, server.server.heapTrims(), "fewer than the threshold were ever open");

                for (int i = 0; i < Server.HEAP_TRIM_PEAK; i++) {
                    clients.add(RawClient.open(server.port()));
                }
                assertTrue(Processes.await(10_000, () -> server.server.openConnections() == Server.HEAP_TRIM_PEAK));
                int leave = Server.HEAP_TRIM_PEAK / 4 + 1;
                closeAll(clients, Server.HEAP_TRIM_PEAK - leave); // a quarter and one still open: not yet
                assertTrue(Processes.await(10_000, () -> server.server.openConnections() == leave));
                assertEquals(0, server.server.heapTrims(), "more than a quarter still open");
                closeAll(clients, 1);
                assertTrue(Processes.await(10_000, () -> server.server.heapTrims() == 1), "a quarter left: one collection");
                closeAll(clients, clients.size());
                assertTrue(Processes.await(10_000, () -> server.server.openConnections() == 0));
                assertEquals(1, server.server.heapTrims(), "only once per burst");
            } finally {
                closeAll(clients, clients.size());
            }
        }
    }

    private static void closeAll(List<RawClient> clients, int count) {
        for (int i = 0; i < count && !clients.isEmpty(); i++) {
            try {
                clients.remove(clients.size() - 1).close();
            } catch (Exception e) {
                // closing anyway
            }
        }
    }
}
