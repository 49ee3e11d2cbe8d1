package dev.weldr.proxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AccessLog}: nginx's combined format with the request time and the server, escaped as nginx does. */
class AccessLogTest {

    @TempDir
    Path dir;

    @Test
    void shouldWriteNginxsCombinedFormatThenTheTimeAndTheServer() {
        String line = AccessLog.line("10.0.0.7", "GET /cart?id=7 HTTP/1.1", 200, 13, null, "curl/8.5.0", 1_234_567,
                "10.0.0.21:8080", AccessLog.time(Instant.parse("2026-11-24T21:30:00Z")));
        String time = java.time.format.DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", java.util.Locale.ROOT)
                .withZone(java.time.ZoneId.systemDefault()).format(Instant.parse("2026-11-24T21:30:00Z"));
        assertEquals("10.0.0.7 - - [" + time + "] \"GET /cart?id=7 HTTP/1.1\" 200 13 \"-\" \"curl/8.5.0\" 0.001 10.0.0.21:8080\n", line);
        assertTrue(AccessLog.line("a", "r", 200, 0, null, null, 12_345_000_000L, null, "t").endsWith("\" 12.345 -\n"));
        assertTrue(AccessLog.line("a", "r", 200, 0, null, null, 1_050_000_000L, null, "t").endsWith("\" 1.050 -\n"));
    }

    @Test
    void shouldMarkWhatIsMissingWithADash() {
        String line = AccessLog.line("::1", "GET / HTTP/1.0", 503, 0, null, null, 0, null, AccessLog.time(Instant.EPOCH));
        assertTrue(line.endsWith("] \"GET / HTTP/1.0\" 503 0 \"-\" \"-\" 0.000 -\n"), line);
    }

    @Test
    void shouldEscapeQuotesBackslashesAndBytesOutsidePrintableAscii() {
        StringBuilder sb = new StringBuilder();
        AccessLog.escape(sb, "a\"b\\c\u0001d\u00e9");
        assertEquals("a\\x22b\\x5cc\\x01d\\xe9", sb.toString());
        String line = AccessLog.line("1.2.3.4", "GET /\"x HTTP/1.1", 400, 0, "http://r\"/", "ua\"x", 0, null, "t");
        assertTrue(line.contains("\"GET /\\x22x HTTP/1.1\" 400 0 \"http://r\\x22/\" \"ua\\x22x\""), line);
    }

    @Test
    void shouldSayWhyADestinationCannotBeUsed() throws Exception {
        assertNull(AccessLog.problem("off"));
        assertNull(AccessLog.problem("stdout"));
        assertNull(AccessLog.problem(dir.resolve("new.log").toString()), "a new file in a writable directory");
        Path existing = Files.writeString(dir.resolve("old.log"), "x\n");
        assertNull(AccessLog.problem(existing.toString()));
        assertTrue(AccessLog.problem(dir.toString()).contains("is a directory"));
        assertTrue(AccessLog.problem(dir.resolve("no/such/dir/a.log").toString()).contains("no directory"));
    }

    @Test
    void shouldAppendToAFileAndWriteWhatIsQueuedWhenClosed() throws Exception {
        Path file = Files.writeString(dir.resolve("access.log"), "before\n");
        byte[] head = "GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: T/1\r\nReferer: http://r/\r\n\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        HttpHead request = HttpHead.request(head, head.length);
        AccessLog log = AccessLog.open(file.toString());
        for (int i = 0; i < 1000; i++) {
            log.log("127.0.0.1", request, 200, i, System.nanoTime(), null);
        }
        log.close();
        var lines = Files.readAllLines(file);
        assertEquals(1001, lines.size());
        assertEquals("before", lines.get(0));
        assertTrue(lines.get(1).matches("127\\.0\\.0\\.1 - - \\[.+\\] \"GET /x HTTP/1\\.1\" 200 0 \"http://r/\" \"T/1\" \\d+\\.\\d{3} -"), lines.get(1));
        assertTrue(lines.get(1000).contains("\" 200 999 \""), lines.get(1000));
        assertNull(AccessLog.open("off"));
    }
}
