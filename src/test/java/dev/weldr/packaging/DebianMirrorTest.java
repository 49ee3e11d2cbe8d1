package dev.weldr.packaging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker/debian-mirror.sh, run by bash as docker/test-image.sh runs it, against apt directories
 * made here: the base image comes from the mirror this machine's apt uses.
 */
class DebianMirrorTest {

    static final Path SCRIPT = Path.of("docker/debian-mirror.sh");

    @TempDir
    Path apt;

    @Test
    void shouldTakeTheFirstDebianSourceOfTheOneLineFormatPassingOverOthers() throws Exception {
        write("sources.list", """
                # deb http://commented.example/debian bookworm main
                deb-src http://source.example/debian bookworm main
                deb [arch=amd64 signed-by=/usr/share/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main
                deb http://archive.ubuntu.com/ubuntu jammy main
                deb [ arch=amd64 ] http://cache.lan:3142/debian/ bookworm main contrib # through the cache
                deb http://cache.lan:3142/debian-security bookworm-security main
                deb http://second.example/debian bookworm main
                """);
        assertEquals(List.of("http://cache.lan:3142/debian", "http://cache.lan:3142/debian-security"), chosen(Map.of()));
    }

    @Test
    void shouldReadDeb822SourcesSkippingDisabledOnesAndListsBeforeThem() throws Exception {
        write("sources.list.d/a.sources", """
                Types: deb
                URIs: http://disabled.example/debian
                Suites: bookworm
                Enabled: no
                """);
        write("sources.list.d/b.sources", """
                # a comment
                Types: deb-src deb
                URIs: https://mirror.example/debian/
                 https://other.example/debian
                Suites: trixie trixie-updates
                Components: main

                Types: deb
                URIs: https://mirror.example/debian-security
                Suites: trixie-security
                Components: main
                """);
        write("sources.list.d/c.list.disabled", "deb http://ignored.example/debian bookworm main\n");
        assertEquals(List.of("https://mirror.example/debian", "https://mirror.example/debian-security"), chosen(Map.of()));

        write("sources.list", "deb http://first.example/debian bookworm-updates main\n");
        assertEquals(List.of("http://first.example/debian", "https://mirror.example/debian-security"), chosen(Map.of()));
    }

    @Test
    void shouldFallBackToDebDebianOrgWithoutADebianSourceAndLetTheEnvironmentOverrideAll() throws Exception {
        write("sources.list", "deb http://archive.ubuntu.com/ubuntu jammy main\n");
        assertEquals(List.of("http://deb.debian.org/debian", "http://deb.debian.org/debian-security"), chosen(Map.of()));

        write("sources.list", "deb http://cache.lan/debian bookworm main\n");
        assertEquals(List.of("http://mine.example/debian", "http://mine.example/security"),
                chosen(Map.of("DEBIAN_MIRROR", "http://mine.example/debian", "DEBIAN_SECURITY_MIRROR", "http://mine.example/security")));
    }

    private void write(String name, String text) throws IOException {
        Path file = apt.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** MIRROR and SECURITY_MIRROR as choose_mirrors sets them, under test-image.sh's shell options. */
    private List<String> chosen(Map<String, String> env) throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT + " exists");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                "set -euo pipefail; . \"$0\"; choose_mirrors \"$1\"; printf '%s\\n%s\\n' \"$MIRROR\" \"$SECURITY_MIRROR\"",
                SCRIPT.toString(), apt.toString()).redirectErrorStream(true);
        pb.environment().remove("DEBIAN_MIRROR");
        pb.environment().remove("DEBIAN_SECURITY_MIRROR");
        pb.environment().putAll(env);
        Process bash = pb.start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, bash.exitValue(), out);
        return out.lines().toList();
    }
}
