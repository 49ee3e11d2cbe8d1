package dev.weldr.acme;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.exception.AcmeServerException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Pebble fixture end to end with acme4j as the client and a tiny HTTP-01 responder of the
 * test's own on 127.0.0.1: what the weldr ACME tests rely on it for.
 */
class PebbleTest {

    private static final long VALIDITY = 3600;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static HttpServer responder;
    private static final Map<String, String> tokens = new ConcurrentHashMap<>();
    private static final List<String> challengeRequests = new CopyOnWriteArrayList<>();
    private static Pebble pebble;
    private static Account account;

    @BeforeAll
    static void start() throws Exception {
        responder = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        responder.createContext("/.well-known/acme-challenge/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            challengeRequests.add(exchange.getRequestHeaders().getFirst("Host") + path);
            String answer = tokens.get(path.substring(path.lastIndexOf('/') + 1));
            byte[] body = (answer == null ? "unknown token" : answer).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(answer == null ? 404 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        responder.start();
        long t0 = System.nanoTime();
        pebble = Pebble.start(Pebble.Options.defaults()
                .httpPort(responder.getAddress().getPort())
                .certificateValiditySeconds(VALIDITY)
                .domainBlocklist("blocked.weldr.test")
                // Every order validates afresh, so each test sees its own validation requests.
                .authzReusePercent(0));
        System.out.printf("Pebble and its DNS server started in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        account = new AccountBuilder().agreeToTermsOfService().useKeyPair(ecKey())
                .create(AcmeTestClient.session(pebble.directory(), pebble.trustFile()));
    }

    @AfterAll
    static void stop() {
        if (pebble != null) {
            long t0 = System.nanoTime();
            pebble.close();
            System.out.printf("Pebble and its DNS server stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        if (responder != null) {
            responder.stop(0);
        }
    }

    @Test
    void shouldIssueAChainThatVerifiesAgainstPebblesRootAfterHttp01OnTheGivenPort() throws Exception {
        int ordersBefore = pebble.orders().size();
        int issuedBefore = pebble.issued().size();

        Order order = account.newOrder().domains("a.weldr.test", "www.a.weldr.test").create();
        answerHttp01(order);
        assertEquals(Status.READY, order.waitUntilReady(WAIT), () -> order.getError() + "\n" + pebble.logs());
        order.execute(ecKey());
        assertEquals(Status.VALID, order.waitForCompletion(WAIT), () -> order.getError() + "\n" + pebble.logs());

        List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        X509Certificate leaf = chain.get(0);
        assertEquals(Set.of(List.of(2, "a.weldr.test"), List.of(2, "www.a.weldr.test")), Set.copyOf(leaf.getSubjectAlternativeNames()));
        X509Certificate root = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pebble.roots().getBytes(StandardCharsets.US_ASCII)));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);

        assertTrue(challengeRequests.stream().anyMatch(r -> r.startsWith("a.weldr.test:")),
                "Pebble's VA asked our responder for a.weldr.test: " + challengeRequests);
        assertEquals(ordersBefore + 1, pebble.orders().size(), pebble::logs);
        assertTrue(pebble.validations().containsAll(List.of(
                new Pebble.Validation("dns", "a.weldr.test"), new Pebble.Validation("dns", "www.a.weldr.test"))), pebble::logs);
        List<Pebble.Issuance> issued = pebble.issued();
        assertEquals(issuedBefore + 1, issued.size(), pebble::logs);
        assertEquals(order.getLocation().toString(), pebble.directory().resolve("/my-order/" + issued.get(issued.size() - 1).order()).toString());
        // Pebble prints the serial's bytes in hex: a leading zero nibble stays, BigInteger drops it.
        assertEquals(leaf.getSerialNumber(), new java.math.BigInteger(issued.get(issued.size() - 1).serial(), 16));
        assertEquals(leaf, pebble.certificate(issued.get(issued.size() - 1).serial()));
        assertEquals(1, pebble.issuedNames().stream().filter(Set.of("a.weldr.test", "www.a.weldr.test")::equals).count());
    }

    @Test
    void shouldIssueCertificatesForTheValidityAsked() throws Exception {
        Order order = account.newOrder().domain("short.weldr.test").create();
        answerHttp01(order);
        assertEquals(Status.READY, order.waitUntilReady(WAIT), () -> order.getError() + "\n" + pebble.logs());
        order.execute(ecKey());
        assertEquals(Status.VALID, order.waitForCompletion(WAIT), () -> order.getError() + "\n" + pebble.logs());

        X509Certificate leaf = order.getCertificate().getCertificate();
        long lifetime = (leaf.getNotAfter().getTime() - leaf.getNotBefore().getTime()) / 1000;
        assertTrue(Math.abs(lifetime - VALIDITY) <= 1, "lifetime " + lifetime + " s, asked " + VALIDITY + " s");
    }

    @Test
    void shouldRefuseABlocklistedNameAndItsSubdomainsWithRejectedIdentifier() {
        for (String name : List.of("blocked.weldr.test", "www.blocked.weldr.test")) {
            int ordersBefore = pebble.orders().size();
            AcmeServerException refused = assertThrows(AcmeServerException.class,
                    () -> account.newOrder().domain(name).create());
            assertEquals(URI.create("urn:ietf:params:acme:error:rejectedIdentifier"), refused.getType(), refused::toString);
            assertEquals(ordersBefore, pebble.orders().size(), pebble::logs);
        }
    }

    @Test
    void shouldValidateWhereAddAPointsTheNameAndBackAfterClearA() throws Exception {
        pebble.addA("moved.weldr.test", "127.0.0.2");
        try {
            Order order = account.newOrder().domain("moved.weldr.test").create();
            answerHttp01(order);
            // Our responder listens on 127.0.0.1 only: at 127.0.0.2 the VA finds nobody.
            assertEquals(Status.INVALID, order.getAuthorizations().get(0).waitForCompletion(WAIT), pebble::logs);
            assertTrue(challengeRequests.stream().noneMatch(r -> r.startsWith("moved.weldr.test")), challengeRequests::toString);
        } finally {
            pebble.clearA("moved.weldr.test");
        }

        Order again = account.newOrder().domain("moved.weldr.test").create();
        answerHttp01(again);
        assertEquals(Status.READY, again.waitUntilReady(WAIT), () -> again.getError() + "\n" + pebble.logs());
    }

    @Test
    void shouldRefuseToPointANameOutsideLoopback() {
        assertThrows(IllegalArgumentException.class, () -> pebble.addA("out.weldr.test", "10.0.0.1"));
        assertThrows(IllegalArgumentException.class, () -> pebble.addA("out.weldr.test", "127.0.0.1.example"));
    }

    @Test
    void shouldRunBesideAnotherPebbleAndStopBothOfItsProgramsOnClose() throws Exception {
        Pebble second = Pebble.start(Pebble.Options.defaults());
        List<Integer> ports = List.of(second.port(), second.managementPort());
        try {
            assertTrue(!ports.contains(pebble.port()) && !ports.contains(pebble.managementPort()), ports::toString);
            new AccountBuilder().agreeToTermsOfService().useKeyPair(ecKey())
                    .create(AcmeTestClient.session(second.directory(), second.trustFile()));
        } finally {
            long t0 = System.nanoTime();
            second.close();
            System.out.printf("second Pebble stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
        for (int port : ports) {
            try (Socket s = new Socket()) {
                assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress("127.0.0.1", port), 5_000),
                        "port " + port + " still open after close");
            }
        }
        assertTrue(!Files.exists(second.trustFile()), "temporary files removed");
    }

    /** Publishes the HTTP-01 answer of each pending authorization and tells the CA to validate it. */
    private static void answerHttp01(Order order) throws Exception {
        for (Authorization auth : order.getAuthorizations()) {
            if (auth.getStatus() == Status.VALID) {
                continue;
            }
            Http01Challenge challenge = auth.findChallenge(Http01Challenge.class).orElseThrow();
            tokens.put(challenge.getToken(), challenge.getAuthorization());
            challenge.trigger();
        }
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }
}
