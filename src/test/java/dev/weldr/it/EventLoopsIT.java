package dev.weldr.it;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code weldr.proxy.event-loops} sets how many event loops carry the traffic, each with its own
 * backend connections: clients taking turns one request at a time reach the backend over exactly
 * one kept-alive connection per event loop (0, the default, is one per core).
 */
class EventLoopsIT {

    @TempDir
    Path data;

    @RegisterExtension
    final Backends backends = new Backends();
    private final Set<Integer> backendConnections = ConcurrentHashMap.newKeySet();
    private int backendPort;

    @BeforeEach
    void startBackend() {
        // Only the test's requests: health checks come over their own connections to "/".
        backendPort = backends.start("ok", req -> {
            if (req.path().equals("/count")) {
                backendConnections.add(req.connection().remoteAddress().port());
            }
        });
    }

    @ParameterizedTest(name = "weldr.proxy.event-loops={0}")
    @ValueSource(ints = {1, 3, 0})
    void shouldKeepOneBackendConnectionPerEventLoop(int configured) throws Exception {
        int expected = configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
        try (WeldrProcess node = WeldrProcess.create("loops", data, Map.of("weldr.proxy.event-loops", Integer.toString(configured)))) {
            node.start();
            assertEquals(201, node.post("/servers", "{\"url\":\"http://127.0.0.1:" + backendPort + "\"}").statusCode());
            // Accepted connections go to the loops in turn: twice as many clients as loops reach every loop.
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 2 * expected; i++) {
                    clients.add(new Socket(InetAddress.getLoopbackAddress(), node.proxyPort));
                }
                for (int round = 0; round < 3; round++) {
                    for (Socket client : clients) {
                        assertTrue(exchange(client).endsWith("\r\n\r\nok"), "a proxied answer");
                    }
                }
            } finally {
                for (Socket client : clients) {
                    client.close();
                }
            }
            assertEquals(expected, backendConnections.size(), "backend connections: " + backendConnections);
        }
    }

    /** One keep-alive request on the client's connection; the response, read to its 2-byte body. */
    private static String exchange(Socket client) throws IOException {
        client.setSoTimeout(10_000);
        client.getOutputStream().write("GET /count HTTP/1.1\r\nHost: weldr\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + seen);
            }
            seen.write(b);
            String text = seen.toString(StandardCharsets.US_ASCII);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0 && text.length() >= end + 4 + 2) {
                return text;
            }
        }
    }
}
