package dev.weldr.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A weldr node as a real process, started from the packaged jar ({@code target/quarkus-app}),
 * on ports chosen free at run time. Tests stop it by its own PID: SIGTERM or SIGKILL.
 */
public final class WeldrProcess implements AutoCloseable {

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Map<String, String> props;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Path log;
    private final Path errLog;
    private Process process;
    /** How the test reaches the admin API: plain HTTP, or HTTPS trusting the node's CA ({@link #overHttps}). */
    private HttpClient admin = HTTP;
    private String adminScheme = "http";
    public final int adminPort;
    public final int proxyPort;
    public final int raftPort;

    private WeldrProcess(Map<String, String> props, Path log, int adminPort, int proxyPort, int raftPort) {
        this.props = props;
        this.log = log;
        this.errLog = log.resolveSibling(log.getFileName() + ".err");
        this.adminPort = adminPort;
        this.proxyPort = proxyPort;
        this.raftPort = raftPort;
    }

    /** A node with free ports, its data in {@code dataDir}, and these extra settings. */
    public static WeldrProcess create(String name, Path dataDir, Map<String, String> extra) {
        return create(name, dataDir, freePort(), freePort(), freePort(), extra);
    }

    public static WeldrProcess create(String name, Path dataDir, int adminPort, int proxyPort, int raftPort,
                                      Map<String, String> extra) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("quarkus.http.host", "127.0.0.1");
        props.put("quarkus.http.port", Integer.toString(adminPort));
        // The same port when the admin listener speaks HTTPS only (quarkus.http.insecure-requests=disabled).
        props.put("quarkus.http.ssl-port", Integer.toString(adminPort));
        props.put("weldr.proxy.host", "127.0.0.1");
        props.put("weldr.proxy.port", Integer.toString(proxyPort));
        props.put("weldr.proxy.tls-port", Integer.toString(freePort()));
        props.put("weldr.raft.host", "127.0.0.1");
        props.put("weldr.raft.port", Integer.toString(raftPort));
        props.put("weldr.raft.data-dir", dataDir.toString());
        props.putAll(extra);
        Path logs = Path.of("target", "it-logs");
        try {
            Files.createDirectories(logs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new WeldrProcess(props, logs.resolve(name + "-" + System.nanoTime() + ".log"), adminPort, proxyPort, raftPort);
    }

    /** A new process of the same node: same ports, same data directory, same settings. */
    public WeldrProcess again(String name) {
        WeldrProcess next = new WeldrProcess(props, log.resolveSibling(name + "-" + System.nanoTime() + ".log"), adminPort, proxyPort, raftPort);
        next.env.putAll(env);
        next.admin = admin;
        next.adminScheme = adminScheme;
        return next;
    }

    /** Sets an environment variable of the process (before it starts). */
    public WeldrProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public String raftId() {
        return "127.0.0.1:" + raftPort;
    }

    public String admin() {
        return adminScheme + "://127.0.0.1:" + adminPort;
    }

    /** Reaches the admin API over HTTPS, trusting what {@code trust} trusts (before the process starts). */
    public WeldrProcess overHttps(javax.net.ssl.SSLContext trust) {
        admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(trust).build();
        adminScheme = "https";
        return this;
    }

    public String proxy() {
        return "http://127.0.0.1:" + proxyPort;
    }

    /** The port of the node's HTTPS listener. */
    public int tlsPort() {
        return Integer.parseInt(props.get("weldr.proxy.tls-port"));
    }

    /**
     * The index of the newest Raft snapshot this node has on disk (JRaft keeps it in
     * {@code <data-dir>/snapshot/snapshot_<index>}), 0 if none yet.
     */
    public long snapshotIndex() {
        Path dir = Path.of(props.get("weldr.raft.data-dir"), "snapshot");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var entries = Files.list(dir)) {
            return entries.map(e -> e.getFileName().toString())
                    .filter(n -> n.matches("snapshot_\\d+"))
                    .mapToLong(n -> Long.parseLong(n.substring("snapshot_".length())))
                    .max().orElse(0);
        } catch (IOException e) {
            return 0; // a snapshot being replaced: ask again
        }
    }

    public static Path jar() {
        return Path.of(System.getProperty("weldr.jar", "target/quarkus-app/quarkus-run.jar"));
    }

    /** Starts the process without waiting for it. */
    public WeldrProcess launch() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-Djava.io.tmpdir=" + Path.of("target", "tmp").toAbsolutePath());
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(jar().toString());
        try {
            Files.createDirectories(Path.of("target", "tmp"));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            process = pb
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(errLog.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Starts the process and waits until its admin API answers. */
    public WeldrProcess start() {
        launch();
        awaitLive(Duration.ofSeconds(30));
        return this;
    }

    public void awaitLive(Duration timeout) {
        await(timeout, () -> {
            if (!process.isAlive()) {
                throw new AssertionError("weldr exited with " + process.exitValue() + ": " + output());
            }
            return get("/q/health/live").statusCode() == 200;
        }, "weldr on " + admin() + " to be live");
    }

    public boolean ready() {
        return get("/q/health/ready").statusCode() == 200;
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(admin() + path)).GET());
    }

    public HttpResponse<String> post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(admin() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public HttpResponse<String> delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(admin() + path)).DELETE());
    }

    /** Any call, the path sent as it is written (percent-encoding kept), with extra headers (name, value, ...). */
    public HttpResponse<String> request(String method, String path, String json, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(admin() + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        return send(request);
    }

    public HttpResponse<String> proxyGet(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(proxy() + path)).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return admin.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new FailedResponse(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGTERM, and wait for the process to end. */
    public int stop() {
        return end(false);
    }

    /** SIGKILL: the process gets no chance to clean up. */
    public int kill() {
        return end(true);
    }

    /** SIGTERM without waiting: to watch what the process does while it stops. */
    public void terminate() {
        process.destroy();
    }

    /** The process's id (for benchmarks that read its CPU time). */
    public long pid() {
        return process.pid();
    }

    /** The processes this one started that still run (hooks, the VIP guard). */
    public List<ProcessHandle> children() {
        return process == null ? List.of() : process.descendants().toList();
    }

    /**
     * Ends the process, then waits a while for what it started (a VIP guard acting on its death):
     * so that a test's temporary files are not removed under them.
     */
    private int end(boolean force) {
        if (process == null) {
            return -1;
        }
        List<ProcessHandle> children = children();
        try {
            return endProcess(force);
        } finally {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (ProcessHandle child : children) {
                try {
                    child.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException stillRunning) {
                    // a hook of the test's own that outlives the node: the test ends it
                }
            }
        }
    }

    private int endProcess(boolean force) {
        if (force) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.exitValue();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** Waits for the process to exit by itself and returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("weldr did not exit within " + timeout + ": " + output());
        }
        return process.exitValue();
    }

    public String stdout() {
        return read(log);
    }

    public String stderr() {
        return read(errLog);
    }

    public String output() {
        return stdout() + stderr();
    }

    private static String read(Path path) {
        try {
            return Files.exists(path) ? Files.readString(path) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (alive()) {
            kill();
        }
    }

    /** Ports handed out by this JVM, never handed out twice. */
    private static final java.util.Set<Integer> GIVEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A port for a node to listen on, free now. Taken below Linux's ephemeral range (32768 and up):
     * a port from {@code new ServerSocket(0)} comes from that range, so between choosing it and the
     * node binding it, any outgoing connection of any process (a Raft link, a health check) could
     * be given it as its local port — and the node failed to start with "Address already in use".
     */
    public static int freePort() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = random.nextInt(20_000, 32_768);
            if (GIVEN.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress("0.0.0.0", port));
                if (GIVEN.add(port)) {
                    return port;
                }
            } catch (IOException busy) {
                // taken: try another
            }
        }
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void await(Duration timeout, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
    }
}
