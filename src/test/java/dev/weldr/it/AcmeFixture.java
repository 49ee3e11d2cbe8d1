package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.acme.Pebble;
import dev.weldr.tls.TlsClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the ACME tests share: a node's {@code weldr.acme.*} settings for a Pebble, the managed
 * certificate as {@code GET /certificates/{name}} shows it, and a TLS client that trusts only
 * Pebble's issuing root and checks the name, as a browser would.
 */
final class AcmeFixture {

    static final ObjectMapper JSON = new ObjectMapper();
    /** The weldr log line of a failed attempt: its time, the certificate, the attempt and the backoff. */
    private static final Pattern FAILED = Pattern.compile(
            "^(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d{3}) WARN .*certificate (\\S+): ACME order for .* failed \\((.*)\\); attempt (\\d+), the next in (\\d+) s$");

    private final TrustManager[] trust;

    AcmeFixture(Pebble pebble) {
        try {
            X509Certificate root = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pebble.roots().getBytes(StandardCharsets.US_ASCII)));
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setCertificateEntry("pebble-root", root);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            trust = tmf.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The settings of a node whose account is at this Pebble. */
    static Map<String, String> settings(Pebble pebble, Map<String, String> more) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("weldr.acme.directory", pebble.directory().toString());
        s.put("weldr.acme.ca-bundle", pebble.trustFile().toString());
        s.put("weldr.acme.agree-tos", "true");
        s.put("weldr.acme.email", "ops@weldr.test");
        s.putAll(more);
        return s;
    }

    /**
     * A TLS context that trusts Pebble's root and nothing else, new each call: a context resumes
     * the sessions it cached, and a resumed session shows the certificate of its first handshake,
     * not the one the node serves now.
     */
    SSLContext fresh() {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, trust, null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The chain served for {@code serverName} on a full handshake, verified up to Pebble's root and for that name. */
    List<X509Certificate> chain(WeldrProcess node, String serverName) throws IOException {
        try (SSLSocket s = TlsClient.connect(fresh(), node.tlsPort(), serverName, true)) {
            List<X509Certificate> chain = new ArrayList<>();
            for (java.security.cert.Certificate c : s.getSession().getPeerCertificates()) {
                chain.add((X509Certificate) c);
            }
            return chain;
        }
    }

    /** The fingerprint of the leaf served for {@code serverName}, or null when no certificate Pebble issued for it is. */
    String served(WeldrProcess node, String serverName) {
        try {
            return fingerprint(chain(node, serverName).get(0));
        } catch (IOException e) {
            return null;
        }
    }

    static String fingerprint(X509Certificate leaf) {
        try {
            return java.util.HexFormat.ofDelimiter(":").withUpperCase()
                    .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<String> dnsNames(X509Certificate leaf) {
        Set<String> names = new TreeSet<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                sans.stream().filter(san -> Integer.valueOf(2).equals(san.get(0))).forEach(san -> names.add((String) san.get(1)));
            }
        } catch (CertificateParsingException e) {
            throw new IllegalStateException(e);
        }
        return names;
    }

    /** {@code GET /certificates/{name}} as JSON, or null when it is not 200. */
    static JsonNode certificate(WeldrProcess node, String name) {
        HttpResponse<String> r = node.get("/certificates/" + name);
        if (r.statusCode() != 200) {
            return null;
        }
        return parse(r.body());
    }

    static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    /** The managed certificate's ACME state ({@code pending}, {@code valid}, ...), or null. */
    static String state(WeldrProcess node, String name) {
        JsonNode c = certificate(node, name);
        return c == null ? null : c.path("acme").path("state").asText(null);
    }

    static void awaitState(WeldrProcess node, String name, String state, Duration timeout) {
        WeldrProcess.await(timeout, () -> state.equals(state(node, name)),
                "certificate " + name + " to be " + state + " on " + node.raftId() + " (now: " + node.get("/certificates/" + name).body() + ")");
    }

    static Instant instant(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : Instant.parse(n.asText());
    }

    /** One failed attempt as the leader logged it. */
    record Failure(long millisOfDay, int attempt, long nextInSeconds, String why) {
    }

    /** The failed attempts the node logged for that certificate, oldest first. */
    static List<Failure> failures(WeldrProcess node, String name) {
        List<Failure> out = new ArrayList<>();
        for (String line : node.stdout().split("\n")) {
            Matcher m = FAILED.matcher(line);
            if (m.find() && m.group(5).equals(name)) {
                long ms = ((Long.parseLong(m.group(1)) * 60 + Long.parseLong(m.group(2))) * 60 + Long.parseLong(m.group(3))) * 1000
                        + Long.parseLong(m.group(4));
                out.add(new Failure(ms, Integer.parseInt(m.group(7)), Long.parseLong(m.group(8)), m.group(6)));
            }
        }
        return out;
    }

    /** Milliseconds from one log time of day to a later one (across midnight too). */
    static long between(Failure earlier, Failure later) {
        long d = later.millisOfDay() - earlier.millisOfDay();
        return d < 0 ? d + Duration.ofDays(1).toMillis() : d;
    }
}
