package dev.weldr.proxy;

import dev.weldr.tls.ClientHellos;
import dev.weldr.tls.LogCapture;
import dev.weldr.tls.TestCertificates;
import dev.weldr.tls.TlsAlpnChallenges;
import dev.weldr.tls.TlsClient;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.weldr.proxy.MetricsTest.metrics;
import static dev.weldr.proxy.MetricsTest.sample;
import static dev.weldr.tls.TestCertificates.body;
import static dev.weldr.tls.TestCertificates.leaf;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ACME TLS-ALPN-01 (RFC 8737) on the HTTPS listener, with real TLS clients: one that validates as
 * a CA does (ALPN {@code acme-tls/1} alone, the host by SNI, the certificate only inspected) and
 * the sites' own clients, for hosts with and without an uploaded certificate. The challenges are
 * given to the node as the ACME client will give them, through {@link TlsAlpnChallenges#update}.
 */
@QuarkusTest
class TlsAlpnChallengeTest extends ProxyTestBase {

    private static final TestCertificates.Issued CA = TestCertificates.ca("weldr alpn root");
    private static final SSLContext CLIENT = TlsClient.trusting(CA.certificate());
    private static final String ACME_IDENTIFIER = "1.3.6.1.5.5.7.1.31";

    @Inject
    TlsAlpnChallenges challenges;

    @AfterEach
    void removeChallengesAndCertificates() {
        challenges.update(Map.of());
        removeEveryCertificate();
    }

    private static byte[] digest(String keyAuthorization) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.US_ASCII));
    }

    /** A handshaken connection naming {@code host} and offering these protocols in ALPN. */
    private SSLSocket handshake(TrustManager trust, String host, String... alpn) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{trust}, null);
        return handshake(context, host, alpn);
    }

    private SSLSocket handshake(SSLContext context, String host, String... alpn) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), tlsPort()), 5_000);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, tlsPort(), true);
        s.setSoTimeout(15_000);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(host)));
        p.setApplicationProtocols(alpn);
        s.setSSLParameters(p);
        try {
            s.startHandshake();
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** A CA's validation: what the node shows for {@code host} to a client that offers acme-tls/1 alone. */
    private SSLSocket validate(String host) throws Exception {
        // Any certificate, as a CA's validation takes it: it checks the extension, not a chain.
        return handshake(TlsClient.ANY, host, "acme-tls/1");
    }

    private static X509Certificate leafOf(SSLSocket s) throws Exception {
        return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }

    /** Checks the certificate RFC 8737 §3 asks for: self-signed, the host its only name, the digest in the critical acmeIdentifier. */
    private static void assertChallengeCertificate(X509Certificate c, String host, byte[] digest) throws Exception {
        assertTrue(c.getCriticalExtensionOIDs().contains(ACME_IDENTIFIER), "acmeIdentifier is critical");
        byte[] extnValue = new byte[2 + 2 + 32];
        // The extension's value (an OCTET STRING) holding the DER OCTET STRING of the digest.
        extnValue[0] = 0x04;
        extnValue[1] = 34;
        extnValue[2] = 0x04;
        extnValue[3] = 32;
        System.arraycopy(digest, 0, extnValue, 4, 32);
        assertArrayEquals(extnValue, c.getExtensionValue(ACME_IDENTIFIER));
        assertEquals(List.of(List.of(2, host)), List.copyOf(c.getSubjectAlternativeNames()));
        c.verify(c.getPublicKey());
        assertEquals("EC", c.getPublicKey().getAlgorithm());
    }

    @Test
    void shouldShowTheChallengeToAValidationAndTheUploadedCertificateToEveryOtherClient() throws Exception {
        TestBackend backend = backend();
        addServer(backend.port());
        TestCertificates.Issued shop = leaf(CA, "shop.example");
        given().contentType("application/json").body(body(shop)).put("/certificates/shop").then().statusCode(200);
        byte[] digest = digest("token-1.thumbprint");
        double handshakes = sample(metrics(), "weldr_tls_handshakes_total");

        challenges.update(Map.of("shop.example", digest));

        try (SSLSocket validation = validate("shop.example")) {
            assertEquals("acme-tls/1", validation.getApplicationProtocol());
            assertChallengeCertificate(leafOf(validation), "shop.example", digest);
            // RFC 8737 §4: nothing follows the handshake; weldr closes, whatever the client sends.
            try {
                validation.getOutputStream().write("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                validation.getOutputStream().flush();
                assertEquals(-1, validation.getInputStream().read(), "closed after the handshake");
            } catch (SSLException | java.net.SocketException closedFirst) {
                // weldr's close reached the client before its request went out, or reset what it sent: closed all the same.
            }
        }
        await("the validation's handshake counted", () -> sample(metrics(), "weldr_tls_handshakes_total") >= handshakes + 1);

        try (SSLSocket browser = handshake(CLIENT, "shop.example", "h2", "http/1.1")) {
            assertEquals(shop.fingerprint(), TlsClient.served(browser), "a browser gets the uploaded certificate");
            assertEquals("h2", browser.getApplicationProtocol());
        }
        try (SSLSocket client = TlsClient.connect(CLIENT, tlsPort(), "shop.example", true)) {
            assertEquals(shop.fingerprint(), TlsClient.served(client));
            RawHttp https = RawHttp.over(client);
            https.sendHead("GET /renewing HTTP/1.1", "Host: shop.example");
            RawHttp.Response r = https.read(false);
            assertEquals(200, r.status(), r.text());
        }
        assertEquals(1, backend.requestCount(), "the request after the validation's handshake never reached the backend");
        assertEquals("/renewing", backend.seen().get(0).uri());
    }

    @Test
    void shouldAnswerAValidationForAHostWithNoCertificateYetAndRefuseItsOtherClientsAsBefore() throws Exception {
        byte[] digest = digest("token-2.thumbprint");
        challenges.update(Map.of("new.example", digest));
        try (SSLSocket validation = validate("NEW.example")) {
            assertEquals("acme-tls/1", validation.getApplicationProtocol());
            assertChallengeCertificate(leafOf(validation), "new.example", digest);
        }
        if (java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/openssl"))) {
            // Another client than the JDK's: OpenSSL's, as certbot's and most CAs' tools are built on.
            Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + tlsPort(), "-servername", "new.example",
                    "-alpn", "acme-tls/1").redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "openssl s_client did not finish");
            assertTrue(out.contains("ALPN protocol: acme-tls/1"), out);
            assertTrue(out.contains("subject=CN = acme.invalid"), out);
        }
        // No certificate names it and there is no default: refused with unrecognized_name, as before.
        assertThrows(SSLException.class, () -> handshake(CLIENT, "new.example", "h2", "http/1.1").close());

        // A validation that refuses what it is shown fails for that, not for an unknown name.
        String rejected = "weldr_tls_handshake_failures_total{reason=\"certificate_rejected\"}";
        String unknown = "weldr_tls_handshake_failures_total{reason=\"unrecognized_name\"}";
        String before = metrics();
        X509TrustManager refusing = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("not this one");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        assertThrows(SSLException.class, () -> handshake(refusing, "new.example", "acme-tls/1").close());
        await("the refused validation counted", () -> sample(metrics(), rejected) >= sample(before, rejected) + 1);
        assertEquals(sample(before, unknown), sample(metrics(), unknown));
    }

    @Test
    void shouldStopAnsweringAHostOnceItsChallengeIsGone() throws Exception {
        TestCertificates.Issued shop = leaf(CA, "shop.example");
        given().contentType("application/json").body(body(shop)).put("/certificates/shop").then().statusCode(200);
        byte[] first = digest("token-3.thumbprint");
        challenges.update(Map.of("shop.example", first, "new.example", first));
        try (SSLSocket validation = validate("shop.example")) {
            assertChallengeCertificate(leafOf(validation), "shop.example", first);
        }

        byte[] second = digest("token-4.thumbprint");
        challenges.update(Map.of("new.example", second));
        try (SSLSocket s = validate("new.example")) {
            assertChallengeCertificate(leafOf(s), "new.example", second);
        }
        try (SSLSocket s = validate("shop.example")) {
            assertEquals(shop.fingerprint(), TlsClient.served(s), "no challenge: the host's own certificate");
            assertEquals("", s.getApplicationProtocol(), "and no protocol in common");
        }

        challenges.update(Map.of());
        assertThrows(SSLException.class, () -> validate("new.example").close(), "no challenge, no certificate: refused");
    }

    @Test
    void shouldLeaveOutWhatIsNoChallengeAndAnswerTheRest() throws Exception {
        byte[] digest = digest("token-5.thumbprint");
        Map<String, byte[]> given = new HashMap<>();
        given.put("Shop.Example.", digest);
        given.put("*.shop.example", digest);
        given.put("short.example", Arrays.copyOf(digest, 20));
        given.put("bad name.example", digest);
        try (LogCapture log = LogCapture.of(TlsAlpnChallenges.class)) {
            challenges.update(given);
            assertEquals(3, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().contains("ERROR TLS-ALPN-01 challenge for short.example not answered: its digest has 20 bytes, not 32"),
                    log.lines().toString());
        }
        try (SSLSocket s = validate("shop.example")) {
            assertChallengeCertificate(leafOf(s), "shop.example", digest);
        }
        assertThrows(SSLException.class, () -> validate("short.example").close());
        assertThrows(SSLException.class, () -> validate("a.shop.example").close());
    }

    @Test
    void shouldRefuseAValidationWhoseAlpnIsMalformedQuietly() throws Exception {
        TestCertificates.Issued shop = leaf(CA, "shop.example");
        given().contentType("application/json").body(body(shop)).put("/certificates/shop").then().statusCode(200);
        byte[] digest = digest("token-6.thumbprint");
        challenges.update(Map.of("shop.example", digest));
        byte[] hello = ClientHellos.jdk("shop.example", "acme-tls/1");
        int data = 9 + ClientHellos.alpnData(Arrays.copyOfRange(hello, 9, hello.length));
        Map<String, byte[]> malformed = new java.util.LinkedHashMap<>();
        byte[] listTooLong = hello.clone();
        listTooLong[data + 1]++;
        malformed.put("a list longer than its extension", listTooLong);
        byte[] nameTooLong = hello.clone();
        nameTooLong[data + 2] = (byte) 200;
        malformed.put("a name past the list's end", nameTooLong);
        byte[] emptyName = hello.clone();
        emptyName[data + 2] = 0;
        malformed.put("a name of no bytes", emptyName);

        try (LogCapture netty = LogCapture.of("io.netty"); LogCapture weldr = LogCapture.of("dev.weldr")) {
            for (Map.Entry<String, byte[]> m : malformed.entrySet()) {
                try (Socket s = raw()) {
                    s.getOutputStream().write(m.getValue());
                    byte[] answer = readUntilClosed(s);
                    // OpenSSL says decode_error; the JDK's TLS, for some, closes without a word.
                    assertTrue(answer.length == 0 || answer.length >= 7 && answer[0] == 0x15 && answer[5] == 2,
                            m.getKey() + ": a fatal alert or nothing, then the end, never a ServerHello: " + java.util.HexFormat.of().formatHex(answer));
                }
            }
            try (Socket s = raw()) {
                // Cut in the middle of the ALPN extension, then closed.
                s.getOutputStream().write(hello, 0, data + 4);
                s.shutdownOutput();
                assertEquals(0, readUntilClosed(s).length, "a ClientHello cut short: closed without an answer");
            }
            try (SSLSocket s = validate("shop.example")) {
                assertChallengeCertificate(leafOf(s), "shop.example", digest);
            }
            List<String> loud = new java.util.ArrayList<>(netty.lines());
            loud.addAll(weldr.lines());
            loud.removeIf(l -> !l.startsWith("WARN") && !l.startsWith("ERROR") && !l.startsWith("SEVERE"));
            assertEquals(List.of(), loud, "nothing logged for a malformed ClientHello");
        }
    }
}
