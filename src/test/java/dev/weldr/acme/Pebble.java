package dev.weldr.acme;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weldr.tls.TestCertificates;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Let's Encrypt's Pebble test CA and its test DNS server ({@code pebble-challtestsrv}), run from
 * Debian's {@code pebble} package on 127.0.0.1 for one test class or one test.
 *
 * <p>Nothing leaves loopback: both listen on 127.0.0.1 only, Pebble resolves every name through
 * the DNS server, and that answers every A query with 127.0.0.1 (or another 127/8 address a test
 * sets with {@link #addA}) and every AAAA query with no address. So Pebble's validation requests
 * for any name reach {@code 127.0.0.1:}{@link Options#httpPort} (HTTP-01) or
 * {@link Options#tlsPort} (TLS-ALPN-01): the weldr listener under test.
 *
 * <p>Each start makes a fresh throw-away CA and a certificate for {@code localhost} and
 * {@code 127.0.0.1} for Pebble's own HTTPS ({@link #trustFile()} is what a client must trust),
 * and Pebble makes a fresh issuing root ({@link #roots()}). {@link #close()} stops both programs
 * by the PIDs it started, never by name.
 */
public final class Pebble implements AutoCloseable {

    private static final String PEBBLE = "/usr/bin/pebble";
    private static final String CHALLTESTSRV = "/usr/bin/pebble-challtestsrv";
    private static final Duration READY = Duration.ofSeconds(30);
    private static final Duration GRACE = Duration.ofSeconds(5);
    /** Pebble 2.4 logs one of these when an order is stored; the name is the order's ID, not its identifiers. */
    private static final Pattern ORDER_ADDED = Pattern.compile("Added order \"([^\"]+)\" to the db");
    private static final Pattern ISSUED = Pattern.compile("Issued certificate serial ([0-9a-f]+) for order (\\S+)");
    /** The task the VA pulls for each validation; its Go dump names the identifier ({@code Value:"a.weldr.test"}). */
    private static final Pattern VALIDATION = Pattern.compile("Pulled a task from the Tasks queue: .*Identifier:acme\\.Identifier\\{Type:\"(\\w+)\", Value:\"([^\"]+)\"\\}");

    /**
     * How to run Pebble. {@link #defaults()} validates at full speed ({@code PEBBLE_VA_NOSLEEP=1}),
     * keeps Pebble's own 5% rejection of good nonces (acme4j retries {@code badNonce}) and its 50%
     * reuse of valid authorizations, issues certificates for Pebble's default lifetime and refuses no
     * name.
     */
    public static final class Options {
        private int httpPort = 5002;
        private int tlsPort = 5001;
        private Long certificateValiditySeconds;
        private List<String> domainBlocklist = List.of();
        private Integer vaSleepSeconds;
        private Integer nonceRejectPercent;
        private Integer authzReusePercent;
        private final Map<String, String> env = new LinkedHashMap<>();

        private Options() {
        }

        public static Options defaults() {
            return new Options();
        }

        /** The port Pebble's VA connects to on 127.0.0.1 for HTTP-01. */
        public Options httpPort(int port) {
            httpPort = port;
            return this;
        }

        /** The port Pebble's VA connects to on 127.0.0.1 for TLS-ALPN-01. */
        public Options tlsPort(int port) {
            tlsPort = port;
            return this;
        }

        /** Lifetime of issued certificates (config {@code certificateValidityPeriod}). */
        public Options certificateValiditySeconds(long seconds) {
            certificateValiditySeconds = seconds;
            return this;
        }

        /** Names the CA refuses with {@code rejectedIdentifier}, and their subdomains (config {@code domainBlocklist}). */
        public Options domainBlocklist(String... names) {
            domainBlocklist = List.of(names);
            return this;
        }

        /**
         * Pebble's VA sleeps a random whole 0..seconds-1 s before each of its three validation
         * requests ({@code PEBBLE_VA_SLEEPTIME}); without this option it does not sleep. It can
         * draw 0 every time: a test that needs an authorization to stay pending must hold its
         * answer back rather than count on this.
         */
        public Options vaSleepSeconds(int seconds) {
            vaSleepSeconds = seconds;
            return this;
        }

        /** Share of good nonces Pebble rejects with {@code badNonce} ({@code PEBBLE_WFE_NONCEREJECT}; Pebble's default 5). */
        public Options nonceRejectPercent(int percent) {
            nonceRejectPercent = percent;
            return this;
        }

        /** Share of new orders that reuse a valid authorization ({@code PEBBLE_AUTHZREUSE}; Pebble's default 50). */
        public Options authzReusePercent(int percent) {
            authzReusePercent = percent;
            return this;
        }

        /** Any other environment variable for Pebble (e.g. {@code PEBBLE_CHAIN_LENGTH}). */
        public Options env(String name, String value) {
            env.put(name, value);
            return this;
        }

        Map<String, String> environment() {
            Map<String, String> e = new LinkedHashMap<>();
            if (vaSleepSeconds == null) {
                e.put("PEBBLE_VA_NOSLEEP", "1");
            } else {
                e.put("PEBBLE_VA_SLEEPTIME", Integer.toString(vaSleepSeconds));
            }
            if (nonceRejectPercent != null) {
                e.put("PEBBLE_WFE_NONCEREJECT", Integer.toString(nonceRejectPercent));
            }
            if (authzReusePercent != null) {
                e.put("PEBBLE_AUTHZREUSE", Integer.toString(authzReusePercent));
            }
            e.putAll(env);
            return e;
        }
    }

    /** A certificate Pebble issued: its serial (hex, as Pebble prints it) and the ID of the order it finalized. */
    public record Issuance(String order, String serial) {
    }

    /** An identifier Pebble's VA pulled a validation task for. */
    public record Validation(String type, String value) {
    }

    private final Options options;
    private final Path dir;
    private final Path trustFile;
    private final String trustPem;
    private final HttpClient client;
    private final List<String> pebbleLog = new CopyOnWriteArrayList<>();
    private final List<String> dnsLog = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::stopProcesses, "pebble-teardown");
    private Process dns;
    private Process pebble;
    private int port;
    private int managementPort;
    private int dnsPort;
    private int dnsManagementPort;
    private String roots;

    /**
     * Starts the DNS server, then Pebble, and returns once Pebble's directory answers. Skips the
     * calling test (JUnit assumption) when the {@code pebble} package is missing and apt-get
     * cannot install it.
     */
    public static Pebble start(Options options) {
        assumeInstalled();
        Pebble p = new Pebble(options);
        try {
            p.startProcesses();
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    private Pebble(Options options) {
        this.options = options;
        try {
            dir = Files.createTempDirectory("pebble-");
            TestCertificates.Issued ca = TestCertificates.ca("weldr test Pebble TLS CA");
            TestCertificates.Issued leaf = TestCertificates.server(ca, List.of("localhost"), List.of("127.0.0.1"));
            trustPem = TestCertificates.pem(ca.certificate());
            trustFile = Files.writeString(dir.resolve("pebble-tls-ca.pem"), trustPem);
            Files.writeString(dir.resolve("cert.pem"), leaf.chainPem());
            Files.writeString(dir.resolve("key.pem"), leaf.keyPem());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        client = HttpClient.newBuilder()
                .sslContext(AcmeTestClient.trusting(trustPem))
                .proxy(HttpClient.Builder.NO_PROXY)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Installs Debian's {@code pebble} package when its programs are missing, or skips the test saying why. */
    static void assumeInstalled() {
        if (Files.isExecutable(Path.of(PEBBLE)) && Files.isExecutable(Path.of(CHALLTESTSRV))) {
            return;
        }
        List<String> install = List.of("apt-get", "install", "-y", "--no-install-recommends", "pebble");
        String out = run(install);
        if (!Files.isExecutable(Path.of(PEBBLE))) {
            run(List.of("apt-get", "update"));
            out = run(install);
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of(PEBBLE)) && Files.isExecutable(Path.of(CHALLTESTSRV)),
                "ACME tests need Debian's pebble package (" + PEBBLE + ", " + CHALLTESTSRV
                        + ") and `apt-get install -y pebble` could not install it: " + out.strip());
    }

    private static String run(List<String> cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return out + " (timed out)";
            }
            return out;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private void startProcesses() {
        // A free port found here may be taken before Pebble binds it; Pebble then exits, and a new set of ports is tried.
        for (int attempt = 1; ; attempt++) {
            try {
                startDns();
                startPebble();
                roots = get(URI.create("https://127.0.0.1:" + managementPort + "/roots/0"));
                return;
            } catch (IllegalStateException e) {
                stopProcesses();
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    private void startDns() {
        dnsPort = freeTcpAndUdpPort();
        dnsManagementPort = freeTcpPort();
        dnsLog.clear();
        dns = launch(List.of(CHALLTESTSRV,
                "-dns01", "127.0.0.1:" + dnsPort,
                "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-management", "127.0.0.1:" + dnsManagementPort,
                "-defaultIPv4", "127.0.0.1",
                // Empty: AAAA queries get no address. Pebble's VA asks AAAA first and dials the first address, so the
                // default (::1) would send every validation to ::1, where weldr's IPv4 listener is not.
                "-defaultIPv6", ""), Map.of(), dnsLog, "pebble-challtestsrv");
        awaitAnswer(dns, dnsLog, URI.create("http://127.0.0.1:" + dnsManagementPort + "/"), "pebble-challtestsrv");
        // The DNS listeners start in goroutines of their own: a validation must not race them.
        awaitListening(dns, dnsLog, dnsPort, "pebble-challtestsrv");
    }

    private void startPebble() {
        port = freeTcpPort();
        managementPort = freeTcpPort();
        StringBuilder config = new StringBuilder()
                .append("{\"pebble\": {")
                .append("\"listenAddress\": \"127.0.0.1:").append(port).append("\", ")
                .append("\"managementListenAddress\": \"127.0.0.1:").append(managementPort).append("\", ")
                .append("\"certificate\": ").append(json(dir.resolve("cert.pem").toString())).append(", ")
                .append("\"privateKey\": ").append(json(dir.resolve("key.pem").toString())).append(", ")
                .append("\"httpPort\": ").append(options.httpPort).append(", ")
                .append("\"tlsPort\": ").append(options.tlsPort).append(", ")
                .append("\"ocspResponderURL\": \"\", ")
                .append("\"externalAccountBindingRequired\": false, ")
                .append("\"domainBlocklist\": [")
                .append(options.domainBlocklist.stream().map(Pebble::json).collect(Collectors.joining(", "))).append("]");
        if (options.certificateValiditySeconds != null) {
            config.append(", \"certificateValidityPeriod\": ").append(options.certificateValiditySeconds);
        }
        config.append("}}\n");
        Path file = dir.resolve("pebble-config.json");
        try {
            Files.writeString(file, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pebbleLog.clear();
        // -strict (Pebble 2.4: refuses ACME v1 leftovers such as a "resource" field) costs acme4j nothing and keeps weldr honest.
        pebble = launch(List.of(PEBBLE, "-strict", "-config", file.toString(), "-dnsserver", "127.0.0.1:" + dnsPort),
                options.environment(), pebbleLog, "pebble");
        awaitAnswer(pebble, pebbleLog, directory(), "pebble");
    }

    private static Process launch(List<String> cmd, Map<String, String> env, List<String> log, String name) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        log.add(line);
                    }
                } catch (IOException ignored) {
                    // The process is gone; what it wrote is kept.
                }
            }, name + "-log-" + p.pid());
            reader.setDaemon(true);
            reader.start();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code uri} until it answers anything at all; fails early, with the program's log, if the program exits. */
    private void awaitAnswer(Process p, List<String> log, URI uri, String name) {
        long deadline = System.nanoTime() + READY.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited with " + p.exitValue() + " before answering " + uri
                        + ":\n" + String.join("\n", log));
            }
            try {
                client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + name, e);
            }
            pause(name);
        }
        throw new IllegalStateException(name + " did not answer " + uri + " within " + READY + " (" + last + "):\n"
                + String.join("\n", log));
    }

    private static void awaitListening(Process p, List<String> log, int port, String name) {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited with " + p.exitValue() + " before listening on " + port
                        + ":\n" + String.join("\n", log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return;
            } catch (IOException notYet) {
                pause(name);
            }
        }
        throw new IllegalStateException(name + " did not listen on " + port + " within " + READY + ":\n" + String.join("\n", log));
    }

    /** Polling interval, not synchronisation: callers loop until their condition holds. */
    private static void pause(String name) {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + name, e);
        }
    }

    private static int freeTcpPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The DNS server binds one port for both UDP and TCP. */
    private static int freeTcpAndUdpPort() {
        for (int i = 0; i < 50; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                 DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp.getLocalPort()))) {
                return udp.getLocalPort();
            } catch (IOException e) {
                // The UDP side of that port is taken: try another.
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP on 127.0.0.1");
    }

    private String get(URI uri) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " -> " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new IllegalStateException("GET " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void postDns(String path, String body) {
        URI uri = URI.create("http://127.0.0.1:" + dnsManagementPort + path);
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("POST " + uri + " " + body + " -> " + r.statusCode() + ": " + r.body());
            }
        } catch (IOException e) {
            throw new IllegalStateException("POST " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The ACME directory, {@code https://127.0.0.1:<port>/dir}. */
    public URI directory() {
        return URI.create("https://127.0.0.1:" + port + "/dir");
    }

    /** The port of Pebble's ACME server on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The port of Pebble's management interface (HTTPS, same certificate) on 127.0.0.1. */
    public int managementPort() {
        return managementPort;
    }

    /** PEM of the CA that signed Pebble's HTTPS certificate: what an ACME client must trust to talk to Pebble. */
    public String trustPem() {
        return trustPem;
    }

    /** {@link #trustPem()} in a file (removed on {@link #close()}). */
    public Path trustFile() {
        return trustFile;
    }

    /** PEM of the root Pebble issues under ({@code /roots/0}, new on every start): the anchor of issued chains. */
    public String roots() {
        return roots;
    }

    /**
     * Makes {@code host} resolve (A) to these addresses instead of 127.0.0.1. Only 127/8
     * addresses are taken: Pebble's validation requests must never leave loopback.
     */
    public void addA(String host, String... addresses) {
        if (addresses.length == 0) {
            throw new IllegalArgumentException("no address for " + host);
        }
        for (String a : addresses) {
            if (!a.matches("127\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){2}")) {
                throw new IllegalArgumentException(a + " is not an IPv4 loopback address (127.0.0.0/8)");
            }
        }
        postDns("/add-a", "{\"host\": " + json(host) + ", \"addresses\": ["
                + Stream.of(addresses).map(Pebble::json).collect(Collectors.joining(", ")) + "]}");
    }

    /** Undoes {@link #addA}: {@code host} resolves to 127.0.0.1 again. */
    public void clearA(String host) {
        postDns("/clear-a", "{\"host\": " + json(host) + "}");
    }

    /** What Pebble printed so far (stdout and stderr), for assertion messages. */
    public String logs() {
        return String.join("\n", pebbleLog);
    }

    /** What the DNS server printed so far. */
    public String dnsLogs() {
        return String.join("\n", dnsLog);
    }

    /** IDs of the orders Pebble created so far, oldest first (its "Added order" lines). */
    public List<String> orders() {
        List<String> ids = new ArrayList<>();
        for (String line : pebbleLog) {
            Matcher m = ORDER_ADDED.matcher(line);
            if (m.find()) {
                ids.add(m.group(1));
            }
        }
        return ids;
    }

    /** Certificates Pebble issued so far, oldest first (its "Issued certificate serial ... for order ..." lines). */
    public List<Issuance> issued() {
        List<Issuance> out = new ArrayList<>();
        for (String line : pebbleLog) {
            Matcher m = ISSUED.matcher(line);
            if (m.find()) {
                out.add(new Issuance(m.group(2), m.group(1)));
            }
        }
        return out;
    }

    /** The certificate Pebble issued with this serial, from its management interface. */
    public X509Certificate certificate(String serial) {
        try {
            String pem = new ObjectMapper().readTree(get(URI.create("https://127.0.0.1:" + managementPort
                    + "/cert-status-by-serial/" + serial))).path("Certificate").asText();
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (CertificateException e) {
            throw new IllegalStateException("certificate " + serial + " from Pebble: " + e, e);
        }
    }

    /**
     * The DNS names of each certificate issued so far, oldest first: what a test asserts "exactly
     * one certificate for these names" on (Pebble logs an order's ID, not its names).
     */
    public List<Set<String>> issuedNames() {
        List<Set<String>> out = new ArrayList<>();
        for (Issuance i : issued()) {
            Set<String> names = new TreeSet<>();
            try {
                Collection<List<?>> sans = certificate(i.serial()).getSubjectAlternativeNames();
                if (sans != null) {
                    sans.stream().filter(san -> Integer.valueOf(2).equals(san.get(0))).forEach(san -> names.add((String) san.get(1)));
                }
            } catch (CertificateParsingException e) {
                throw new IllegalStateException(e);
            }
            out.add(names);
        }
        return out;
    }

    /**
     * Every validation Pebble's VA started so far, oldest first: one per challenge the client
     * answered, whatever its outcome.
     */
    public List<Validation> validations() {
        List<Validation> out = new ArrayList<>();
        for (String line : pebbleLog) {
            Matcher m = VALIDATION.matcher(line);
            if (m.find()) {
                out.add(new Validation(m.group(1), m.group(2)));
            }
        }
        return out;
    }

    /** Stops Pebble and the DNS server (by the PIDs started here) and removes the temporary files. */
    @Override
    public void close() {
        stopProcesses();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Already running as the hook.
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // A temporary directory left behind harms nothing.
        }
    }

    private void stopProcesses() {
        stop(pebble);
        stop(dns);
    }

    private static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
