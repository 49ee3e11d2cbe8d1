package dev.weldr.proxy;

import dev.weldr.tls.LogCapture;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static dev.weldr.proxy.MetricsTest.metrics;
import static dev.weldr.proxy.MetricsTest.present;
import static dev.weldr.proxy.MetricsTest.sample;
import static dev.weldr.tls.TestCertificates.body;
import static dev.weldr.tls.TestCertificates.leaf;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The HTTPS listener's metrics and expiry log lines, with real TLS clients: each way a handshake
 * can fail, played by a client that behaves that way, is counted under its own reason and no
 * other. The test profile's handshake timeout is 2 s; no test leaves a certificate behind.
 */
@QuarkusTest
class TlsMetricsTest extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr metrics root");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());
    private static final List<String> REASONS = List.of("timeout", "plain_http", "protocol", "unrecognized_name",
            "certificate_rejected", "closed", "other");
    private static final String HANDSHAKES = "weldr_tls_handshakes_total";

    @AfterEach
    void removeCertificates() {
        removeEveryCertificate();
    }

    private static void put(String name, TestCertificates.Issued leaf) {
        given().contentType("application/json").body(body(leaf)).put("/certificates/" + name).then().statusCode(200);
    }

    private static String failures(String reason) {
        return "weldr_tls_handshake_failures_total{reason=\"" + reason + "\"}";
    }

    private static String expiry(String certificate) {
        return "weldr_tls_certificate_expiry_seconds{certificate=\"" + certificate + "\"}";
    }

    private static String notAfter(String certificate) {
        return "weldr_tls_certificate_not_after_timestamp_seconds{certificate=\"" + certificate + "\"}";
    }

    @Test
    void shouldExposeEachCertificatesExpiryAndDropItWhenTheCertificateIsDeleted() {
        Instant end = Instant.now().plus(Duration.ofDays(30)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        TestCertificates.Issued shop = leaf(CA, TestCertificates.ec("secp256r1"), Instant.now().minus(Duration.ofDays(1)), end, "shop.example");
        put("shop", shop);
        // Another test's "shop" may still show for up to a second: wait for this one's.
        await(notAfter("shop") + " is this certificate's notAfter", () -> sample(metrics(), notAfter("shop")) == end.getEpochSecond());
        double expected = Duration.between(Instant.now(), end).toSeconds();
        double left = sample(metrics(), expiry("shop"));
        assertTrue(Math.abs(left - expected) < 300, "seconds left: " + left + ", expected about " + expected);

        given().delete("/certificates/shop").then().statusCode(204);
        await(expiry("shop") + " is gone", () -> {
            String now = metrics();
            return !present(now, expiry("shop")) && !present(now, notAfter("shop"));
        });
    }

    @Test
    void shouldCountEachWayAHandshakeEndsUnderItsOwnReason() throws Exception {
        // No default certificate is uploaded (the profile names "fallback"), so an unknown name is refused.
        put("shop", leaf(CA, "shop.example"));
        TestBackend backend = backend();
        addServer(backend.port());
        byte[] clientHello = jdkClientHello("shop.example");

        counted(HANDSHAKES, "a JDK client", () -> {
            try (SSLSocket s = TlsClient.connect(CLIENT, tlsPort(), "shop.example", true)) {
                assertTrue(TlsClient.served(s).length() > 0);
            }
        });
        counted(failures("plain_http"), "plain HTTP", () -> {
            try (Socket plain = raw()) {
                plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(readUntilClosed(plain), StandardCharsets.ISO_8859_1);
                assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
                assertTrue(answer.endsWith("\r\n\r\nThe plain HTTP request was sent to the HTTPS port: use https\n"), answer);
            }
        });
        assertEquals(0, backend.requestCount(), "plain HTTP on the HTTPS port never reaches a backend");
        counted(failures("protocol"), "a TLS 1.0 ClientHello", () -> {
            try (Socket tls10 = raw()) {
                tls10.getOutputStream().write(HttpsListenerTest.clientHello(0x0301, "shop.example"));
                byte[] answer = readUntilClosed(tls10);
                assertTrue(answer.length >= 7 && answer[0] == 0x15 && answer[6] == 70, "a protocol_version alert");
            }
        });
        counted(failures("unrecognized_name"), "a name no certificate covers, no default",
                () -> assertThrows(SSLException.class, () -> TlsClient.connect(CLIENT, tlsPort(), "elsewhere.example", false).close()));
        counted(failures("unrecognized_name"), "no name, no default",
                () -> assertThrows(SSLException.class, () -> TlsClient.connect(CLIENT, tlsPort(), null, false).close()));
        counted(failures("certificate_rejected"), "a client that does not trust the certificate",
                () -> assertThrows(SSLException.class, () -> TlsClient.connect(SSLContext.getDefault(), tlsPort(), "shop.example", true).close()));
        counted(failures("timeout"), "a client that sends nothing", () -> {
            try (Socket silent = raw()) {
                assertEquals(0, readUntilClosed(silent).length, "closed after the handshake timeout");
            }
        });
        counted(failures("timeout"), "a client that stalls after its ClientHello", () -> {
            try (Socket stalled = raw()) {
                stalled.getOutputStream().write(clientHello);
                assertTrue(readUntilClosed(stalled).length > 0, "the server's first flight, then the end after the handshake timeout");
            }
        });
        // A first record that is not a handshake leaves the SNI handler with no name, and no default:
        // it is the stall, not the name, that ends this one.
        counted(failures("timeout"), "a client that starts an alert record and stalls", () -> {
            try (Socket stalled = raw()) {
                stalled.getOutputStream().write(new byte[]{0x15, 0x03, 0x03, 0x40, 0x00, 2});
                assertEquals(0, readUntilClosed(stalled).length, "closed after the handshake timeout");
            }
        });
        counted(failures("closed"), "a client that closes within its ClientHello (after one that sent nothing: not counted)", () -> {
            // A load balancer's TCP check: it began no handshake, so it failed none.
            raw().close();
            try (Socket half = raw()) {
                half.getOutputStream().write(clientHello, 0, 20);
                half.getOutputStream().flush();
            }
        });
        counted(failures("closed"), "a client that closes once it has the ServerHello", () -> {
            try (Socket quitter = raw()) {
                quitter.getOutputStream().write(clientHello);
                assertEquals(0x16, quitter.getInputStream().read(), "a handshake record: the ServerHello");
            }
        });
    }

    @Test
    void shouldCountTheHandshakesOfOpenSslAndCurl() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/openssl"))
                && java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/curl")), "openssl or curl is not installed");
        put("shop", leaf(CA, "shop.example"));
        counted(HANDSHAKES, "openssl s_client over TLS 1.2",
                () -> assertTrue(run("openssl", "s_client", "-connect", "127.0.0.1:" + tlsPort(), "-servername", "shop.example",
                        "-tls1_2").contains("Protocol  : TLSv1.2")));
        // Security level 0 lets OpenSSL 3 offer TLS 1.0 at all.
        counted(failures("protocol"), "openssl s_client over TLS 1.0", () -> run("openssl", "s_client", "-connect",
                "127.0.0.1:" + tlsPort(), "-servername", "shop.example", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"));
        counted(failures("unrecognized_name"), "openssl s_client naming another host", () -> assertTrue(run("openssl", "s_client",
                "-connect", "127.0.0.1:" + tlsPort(), "-servername", "elsewhere.example").contains("unrecognized name")));
        counted(failures("plain_http"), "curl speaking HTTP to the HTTPS port", () -> {
            String out = run("curl", "-s", "-i", "--noproxy", "*", "http://127.0.0.1:" + tlsPort() + "/");
            assertTrue(out.startsWith("HTTP/1.1 400") && out.contains("sent to the HTTPS port"), out);
        });
    }

    /** What a command writes (stdout and stderr), its standard input empty. */
    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), command[0] + " did not finish");
        return out;
    }

    /**
     * Runs what a client does, then waits until {@code sample} has grown by one, and checks that
     * no other handshake series moved.
     */
    private void counted(String sample, String what, Step client) throws Exception {
        Map<String, Double> before = handshakeSamples(metrics());
        client.run();
        await(what + " counted in " + sample, () -> sample(metrics(), sample) >= before.get(sample) + 1);
        Map<String, Double> after = handshakeSamples(metrics());
        for (Map.Entry<String, Double> e : before.entrySet()) {
            double expected = e.getKey().equals(sample) ? e.getValue() + 1 : e.getValue();
            assertEquals(expected, after.get(e.getKey()), what + ": " + e.getKey());
        }
    }

    private static Map<String, Double> handshakeSamples(String metrics) {
        Map<String, Double> samples = new LinkedHashMap<>();
        samples.put(HANDSHAKES, sample(metrics, HANDSHAKES));
        for (String reason : REASONS) {
            assertTrue(present(metrics, failures(reason)), "every reason is exposed from the start: " + reason);
            samples.put(failures(reason), sample(metrics, failures(reason)));
        }
        return samples;
    }

    private interface Step {
        void run() throws Exception;
    }

    @Test
    void shouldLogACertificateWithinFourteenDaysOfExpiryAndNotOneWithSixty() {
        Instant now = Instant.now();
        TestCertificates.Issued later = leaf(CA, TestCertificates.ec("secp256r1"), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(60)), "later.example");
        TestCertificates.Issued soon = leaf(CA, TestCertificates.ec("secp256r1"), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(10)), "soon.example", "*.soon.example");
        try (LogCapture log = LogCapture.of("dev.weldr.tls.ExpiryWarnings")) {
            put("later", later);
            put("soon", soon);
            await("the warning for soon", () -> log.lines().stream().anyMatch(l -> l.contains("certificate soon ")));
            List<String> lines = log.lines();
            assertEquals(1, lines.size(), "one line, and none for the certificate with 60 days left: " + lines);
            String line = lines.get(0);
            assertTrue(line.startsWith("WARN certificate soon (soon.example, *.soon.example) expires in 9 days 23 hours, on "
                    + soon.certificate().getNotAfter().toInstant()), line);
            assertTrue(line.endsWith(": upload its renewal (PUT /certificates/soon)"), line);
        }
    }

    // ---- clients ------------------------------------------------------------------------------



    /**
     * The first record the JDK's TLS client sends (its ClientHello, TLS 1.3 and 1.2 offered), as
     * a listener of the test's own reads it: replayed, it starts a real handshake that the test
     * can then stall or abandon at a chosen point.
     */
    private static byte[] jdkClientHello(String serverName) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> client = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) CLIENT.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                    s.setSoTimeout(30_000);
                    SSLParameters p = s.getSSLParameters();
                    p.setServerNames(List.of(new SNIHostName(serverName)));
                    s.setSSLParameters(p);
                    s.startHandshake();
                } catch (IOException expected) {
                    // the listener closes without answering
                }
            });
            try (Socket accepted = listener.accept()) {
                accepted.setSoTimeout(30_000);
                DataInputStream in = new DataInputStream(accepted.getInputStream());
                byte[] header = new byte[5];
                in.readFully(header);
                assertEquals(0x16, header[0], "a handshake record");
                byte[] record = new byte[5 + ((header[3] & 0xff) << 8 | header[4] & 0xff)];
                System.arraycopy(header, 0, record, 0, 5);
                in.readFully(record, 5, record.length - 5);
                return record;
            } finally {
                client.get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }
}
