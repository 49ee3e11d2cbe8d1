package dev.weldr.packaging;

import dev.weldr.it.WeldrProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker/aot-train.sh as the image build runs it, on the packaged application: with Java 25 it
 * writes an AOT cache that a JVM started with {@code -XX:AOTMode=on} (which refuses to start
 * rather than run without a usable cache) takes, and weldr becomes ready on it; with Java 17 it
 * writes nothing and succeeds.
 */
class AotCacheIT {

    private static final Duration WAIT = Duration.ofSeconds(300);

    @TempDir
    Path dir;

    /** A JDK 25 or later from the system JVM folder (FACTS.md: Temurin 25 is installed beside 17). */
    static Path java25() throws IOException {
        try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            return jvms.filter(p -> p.getFileName().toString().matches(".*-2[5-9]-.*|.*-2[5-9]")).map(p -> p.resolve("bin/java"))
                    .filter(Files::isExecutable).findFirst()
                    .orElseThrow(() -> new AssertionError("no Java 25+ in /usr/lib/jvm: the AOT cache needs one"));
        }
    }

    /** A copy of target/quarkus-app, where the cache is written as it is in the image's /opt/weldr. */
    private Path app() throws IOException {
        Path from = Path.of("target/quarkus-app");
        Path to = dir.resolve("opt");
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return to;
    }

    private static Process train(Path app, Path javaHome) throws IOException {
        return train(app, javaHome, 300);
    }

    private static Process train(Path app, Path javaHome, int requests) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("docker/aot-train.sh").redirectErrorStream(true);
        pb.environment().put("WELDR_HOME", app.toString());
        pb.environment().put("PATH", javaHome.resolve("bin") + ":" + System.getenv("PATH"));
        pb.environment().put("TRAIN_REQUESTS", String.valueOf(requests));
        pb.environment().put("JAVA_OPTS", "-XX:MaxRAMPercentage=50.0 -Djava.io.tmpdir=" + Path.of("target").toAbsolutePath());
        return pb.start();
    }

    @Test
    void shouldTrainACacheThatJava25StartsWeldrOn() throws Exception {
        Path app = app();
        Path java = java25();
        Process training = train(app, java.getParent().getParent());
        String out = new String(training.getInputStream().readAllBytes());
        assertEquals(0, training.waitFor(), out);
        Path cache = app.resolve("weldr.aot");
        assertTrue(Files.size(cache) > 1_000_000, "a cache of some size: " + out);
        assertTrue(out.contains("of 300 requests proxied during the training run"), out);
        assertTrue(!out.contains(" 0 of 300 requests proxied"), "the training run proxied nothing: " + out);

        int admin = freePort();
        Process weldr = new ProcessBuilder(java.toString(), "-XX:AOTCache=" + cache, "-XX:AOTMode=on",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + admin, "-Dweldr.proxy.host=127.0.0.1",
                "-Dweldr.proxy.port=" + freePort(), "-Dweldr.proxy.tls-port=0", "-Dweldr.raft.port=" + freePort(),
                "-Dweldr.raft.data-dir=" + dir.resolve("data"), "-Djava.io.tmpdir=" + Path.of("target").toAbsolutePath(),
                "-jar", app.resolve("quarkus-run.jar").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("weldr.log").toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            WeldrProcess.await(WAIT, () -> {
                if (!weldr.isAlive()) {
                    throw new AssertionError("weldr did not start on the cache: " + log());
                }
                try {
                    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/q/health/ready"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }, "weldr to be ready on the AOT cache");
        } finally {
            weldr.destroy();
            weldr.waitFor();
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("weldr.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void shouldFailTheBuildWhenNoRequestWasProxied() throws Exception {
        // A cache without the traffic's profiles is not what the image promises: no cache, and the build stops.
        Path app = app();
        Process training = train(app, java25().getParent().getParent(), 0);
        String out = new String(training.getInputStream().readAllBytes());
        assertEquals(1, training.waitFor(), out);
        assertTrue(out.contains("aot-train: no request was proxied during the training run"), out);
        assertTrue(out.contains("add-server"), "the end of weldr's log is shown: " + out);
        assertTrue(Files.notExists(app.resolve("weldr.aot")), out);
    }

    @Test
    void shouldWriteNoCacheAndSucceedWithJava17() throws Exception {
        Path app = app();
        Path java17;
        try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            java17 = jvms.filter(p -> p.getFileName().toString().matches("java-17-.*") && Files.isExecutable(p.resolve("bin/java")))
                    .findFirst().orElseThrow(() -> new AssertionError("no Java 17 in /usr/lib/jvm"));
        }
        Process training = train(app, java17);
        String out = new String(training.getInputStream().readAllBytes());
        assertEquals(0, training.waitFor(), out);
        assertTrue(out.contains("this Java has no AOT cache"), out);
        assertTrue(Files.notExists(app.resolve("weldr.aot")), out);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
