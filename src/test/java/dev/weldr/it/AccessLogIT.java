package dev.weldr.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code weldr.proxy.access-log}: a real weldr writes one line per request, nginx's combined format
 * then the request time and the server, to a file or to standard output; off, it writes none.
 */
class AccessLogIT {

    @TempDir
    Path dir;

    @RegisterExtension
    final Backends backends = new Backends();

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }

    @Test
    void shouldLogEveryRequestToAFile() throws Exception {
        Path file = dir.resolve("access.log");
        int port = backends.start("hello");
        try (WeldrProcess node = WeldrProcess.create("access", dir.resolve("data"),
                Map.of("weldr.proxy.access-log", file.toString())).start()) {
            assertEquals(503, node.proxyGet("/empty").statusCode());
            assertEquals(201, node.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}").statusCode());
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(node.proxy() + "/cart?id=7"))
                    .header("User-Agent", "it/1.0").header("Referer", "http://shop.example/").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("hello", r.body());

            WeldrProcess.await(Duration.ofSeconds(10), () -> lines(file).size() == 2, "two lines in " + file);
            List<String> lines = lines(file);
            assertTrue(lines.get(0).matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /empty HTTP/1\\.1\" 503 \\d+ \"-\" \"[^\"]+\" \\d+\\.\\d{3} -"),
                    lines.get(0));
            assertTrue(lines.get(1).matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /cart\\?id=7 HTTP/1\\.1\" 200 5 \"http://shop\\.example/\" "
                    + "\"it/1\\.0\" \\d+\\.\\d{3} 127\\.0\\.0\\.1:" + port), lines.get(1));
            assertFalse(node.stdout().contains("GET /cart"), "the file only, not standard output");
        }
    }

    @Test
    void shouldLogToStandardOutputOrNowhere() throws Exception {
        int port = backends.start("hello");
        try (WeldrProcess logging = WeldrProcess.create("access-stdout", dir.resolve("a"), Map.of("weldr.proxy.access-log", "stdout")).start();
             WeldrProcess quiet = WeldrProcess.create("access-off", dir.resolve("b"), Map.of()).start()) {
            for (WeldrProcess node : List.of(logging, quiet)) {
                assertEquals(201, node.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}").statusCode());
                assertEquals("hello", node.proxyGet("/seen").body());
            }
            WeldrProcess.await(Duration.ofSeconds(10), () -> logging.stdout().contains("\"GET /seen HTTP/1.1\" 200 5 "),
                    "the request's line on standard output");
            assertFalse(quiet.stdout().contains("GET /seen"), "off by default");
        }
    }
}
