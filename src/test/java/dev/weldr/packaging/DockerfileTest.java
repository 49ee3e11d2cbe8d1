package dev.weldr.packaging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What can be checked of docker/Dockerfile.jvm and docker/Dockerfile.native without building them
 * (docker/test-image.sh builds and runs the JVM image): the contract of the images, and that they
 * agree with the Kubernetes manifests.
 */
class DockerfileTest {

    static final Path DOCKERFILE = Path.of("docker/Dockerfile.jvm");
    static final Path NATIVE = Path.of("docker/Dockerfile.native");

    record Instruction(String keyword, String arguments) {
    }

    /** The instructions, with continuation lines joined and comments dropped. */
    static List<Instruction> instructions(Path file) throws IOException {
        List<Instruction> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(file)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            String text = current.toString().strip();
            current.setLength(0);
            if (!text.isEmpty()) {
                String[] parts = text.split("\\s+", 2);
                out.add(new Instruction(parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""));
            }
        }
        return out;
    }

    static List<String> all(List<Instruction> instructions, String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::arguments).toList();
    }

    /** ENV and ARG values (KEY=value or KEY="value with spaces"), later ones winning. */
    static Map<String, String> assignments(List<String> lines) {
        Map<String, String> values = new TreeMap<>();
        Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?:=(\"[^\"]*\"|\\S*))?").matcher("");
        for (String line : lines) {
            m.reset(line);
            while (m.find()) {
                String value = m.group(2) == null ? "" : m.group(2);
                values.put(m.group(1), value.startsWith("\"") ? value.substring(1, value.length() - 1) : value);
            }
        }
        return values;
    }

    @Test
    void baseImageIsABuildArgumentWithAPublicDefault() throws IOException {
        List<Instruction> instructions = instructions(DOCKERFILE);
        List<String> from = all(instructions, "FROM");
        assertEquals(List.of("${BASE_IMAGE}"), from, "one stage, FROM the BASE_IMAGE argument");
        Instruction first = instructions.get(0);
        assertEquals("ARG", first.keyword(), "BASE_IMAGE is declared before FROM");
        String base = assignments(List.of(first.arguments())).get("BASE_IMAGE");
        assertNotNull(base, "ARG BASE_IMAGE");
        // Java 25: the first LTS whose AOT cache holds method profiles (JEP 515); the jar is built for 17.
        assertTrue(base.matches("[a-z0-9.-]+(/[a-z0-9._-]+)+:25[a-z0-9._-]*"), "a public Java 25 image by default, not " + base);
        String header = Files.readString(DOCKERFILE);
        assertTrue(header.contains("build -f docker/Dockerfile.jvm"), "the header shows the build command");
        assertTrue(header.contains("run ") && header.contains("WELDR_ADMIN_TOKEN"), "the header shows the run command, with a token");
    }

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile.jvm", "docker/Dockerfile.native"})
    void imageRunsAsANonRootUserWithDataInAVolume(Path dockerfile) throws IOException {
        List<Instruction> instructions = finalStage(instructions(dockerfile));
        Map<String, String> args = assignments(all(instructions, "ARG"));
        List<String> users = all(instructions, "USER");
        assertFalse(users.isEmpty(), "USER is set");
        String user = users.get(users.size() - 1).replace("${WELDR_UID}", args.getOrDefault("WELDR_UID", "?"));
        assertTrue(user.matches("\\d+(:\\d+)?"), "a numeric USER, so that runAsNonRoot can check it: " + user);
        long uid = Long.parseLong(user.split(":")[0]);
        assertTrue(uid > 0, "not root");
        assertEquals(uid, KubernetesManifestsTest.pod().getSecurityContext().getRunAsUser(),
                "the StatefulSet runs as the image's user");

        assertEquals(List.of("/data"), all(instructions, "VOLUME"));
        Map<String, String> env = assignments(all(instructions, "ENV"));
        assertEquals("/data", env.get("WELDR_RAFT_DATA_DIR"), "the pool is kept in /data");
        // Bound to every interface, the admin API falls under the token rule: no token, no start.
        assertEquals("0.0.0.0", env.get("QUARKUS_HTTP_HOST"));
        assertFalse(env.containsKey("WELDR_ADMIN_TOKEN"), "no token baked into the image");
        assertFalse(env.containsKey("WELDR_ADMIN_INSECURE"), "the image does not switch the token rule off");
    }

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile.jvm", "docker/Dockerfile.native"})
    void exposedPortsAreWeldrsAndTheManifestsOnes(Path dockerfile) throws IOException {
        List<String> expose = all(finalStage(instructions(dockerfile)), "EXPOSE");
        TreeSet<Integer> ports = expose.stream().flatMap(e -> Arrays.stream(e.split("\\s+")))
                .map(p -> Integer.parseInt(p.replace("/tcp", ""))).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of(8080, 8443, 8687, 8688)), ports, "proxy, HTTPS, admin, Raft");
        TreeSet<Integer> manifestPorts = KubernetesManifestsTest.weldr().getPorts().stream()
                .map(p -> p.getContainerPort()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(ports, manifestPorts, "the StatefulSet's container ports are the image's");
    }

    @Test
    void nativeImageIsCompiledWithTheNativeProfileInABuilderImage() throws IOException {
        List<Instruction> instructions = instructions(NATIVE);
        List<String> from = all(instructions, "FROM");
        assertEquals(List.of("${BUILDER_IMAGE} AS build", "${RUNTIME_IMAGE}"), from);
        Map<String, String> args = assignments(all(instructions, "ARG"));
        assertTrue(args.getOrDefault("BUILDER_IMAGE", "").contains("mandrel-builder-image:jdk-"), "a Mandrel builder: " + args);
        assertTrue(all(instructions, "RUN").stream().anyMatch(r -> r.contains("./mvnw") && r.contains("-Pnative")),
                "the build stage runs the native profile");
        // Everything the build stage copies is in the repository and let through by .dockerignore.
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip).toList();
        for (String copy : all(instructions, "COPY")) {
            if (copy.startsWith("--from=")) {
                continue;
            }
            String[] parts = copy.split("\\s+");
            for (String source : Arrays.copyOf(parts, parts.length - 1)) {
                assertTrue(Files.exists(Path.of(source)), source + " is copied but does not exist");
                assertTrue(ignore.contains("!" + source) || ignore.contains("!" + source + "/"), source + " is not let through by .dockerignore");
            }
        }
        String entrypoint = all(finalStage(instructions), "ENTRYPOINT").get(0);
        assertTrue(entrypoint.startsWith("[\"/opt/weldr/weldr\""), "exec form, the native executable: " + entrypoint);
    }

    /** The instructions after the last FROM. */
    static List<Instruction> finalStage(List<Instruction> instructions) {
        int last = 0;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).keyword().equals("FROM")) {
                last = i;
            }
        }
        return instructions.subList(last, instructions.size());
    }

    @Test
    void aotCacheIsTrainedAsRootWithTheImagesJvmOptions() throws IOException {
        List<Instruction> instructions = instructions(DOCKERFILE);
        List<String> keywords = instructions.stream().map(Instruction::keyword).toList();
        int train = -1;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).keyword().equals("RUN") && instructions.get(i).arguments().contains("/opt/weldr/aot-train.sh")) {
                train = i;
            }
        }
        assertTrue(train > 0, "the image trains its AOT cache");
        int copied = -1, javaOpts = -1, app = -1;
        for (int i = 0; i < train; i++) {
            Instruction in = instructions.get(i);
            if (in.keyword().equals("COPY") && in.arguments().contains("docker/aot-train.sh /opt/weldr/aot-train.sh")) {
                copied = i;
            }
            if (in.keyword().equals("COPY") && in.arguments().contains("target/quarkus-app/*.jar")) {
                app = i;
            }
            if (in.keyword().equals("ENV") && assignments(List.of(in.arguments())).containsKey("JAVA_OPTS")) {
                javaOpts = i;
            }
        }
        assertTrue(copied >= 0 && app >= 0, "the script and the application are in the image before the training");
        assertTrue(javaOpts >= 0, "trained with the JAVA_OPTS it will run with: the ENV comes first");
        assertTrue(keywords.subList(0, train).stream().noneMatch("USER"::equals), "trained as root, so the weldr user cannot change the cache");
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip).toList();
        assertTrue(ignore.contains("!docker/aot-train.sh"), ".dockerignore lets the training script in: " + ignore);
        assertTrue(Files.isExecutable(Path.of("docker/aot-train.sh")));
    }

    /** The entrypoint run with a stand-in {@code java} that prints its arguments, one a line. */
    private static List<String> entrypointJavaArguments(Path dir, boolean cache, String javaOpts) throws Exception {
        Path home = Files.createDirectories(dir.resolve("opt"));
        if (cache) {
            Files.writeString(home.resolve("weldr.aot"), "cache");
        }
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        java.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder("docker/entrypoint.sh", "--weldr-argument").redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("WELDR_HOME", home.toString());
        if (javaOpts != null) {
            pb.environment().put("JAVA_OPTS", javaOpts);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        return out.lines().toList();
    }

    @Test
    void entrypointUsesTheAotCacheOnlyWhereTheImageHasOne(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertEquals(List.of("-XX:MaxRAMPercentage=50.0", "-jar", dir.resolve("none/opt/quarkus-run.jar").toString(), "--weldr-argument"),
                entrypointJavaArguments(dir.resolve("none"), false, "-XX:MaxRAMPercentage=50.0"),
                "no cache (a Java 17 base image): no AOT option, which Java 17 would refuse");
        String cached = dir.resolve("cached/opt/weldr.aot").toString();
        assertEquals(List.of("-XX:AOTCache=" + cached, "-XX:MaxRAMPercentage=50.0", "-jar", dir.resolve("cached/opt/quarkus-run.jar").toString(),
                "--weldr-argument"), entrypointJavaArguments(dir.resolve("cached"), true, "-XX:MaxRAMPercentage=50.0"));
        assertEquals(List.of("-XX:AOTMode=off", "-jar", dir.resolve("off/opt/quarkus-run.jar").toString(), "--weldr-argument"),
                entrypointJavaArguments(dir.resolve("off"), true, "-XX:AOTMode=off"), "JAVA_OPTS can turn the cache off");
    }

    @Test
    void entrypointExecsJavaOnTheQuarkusAppLayout() throws IOException {
        List<Instruction> instructions = instructions(DOCKERFILE);
        List<String> entrypoint = all(instructions, "ENTRYPOINT");
        assertEquals(1, entrypoint.size());
        assertTrue(entrypoint.get(0).startsWith("["), "exec form, so that weldr gets SIGTERM: " + entrypoint.get(0));
        Path script = Path.of("docker/entrypoint.sh");
        assertTrue(Files.isExecutable(script), script + " is executable");
        String text = Files.readString(script);
        assertTrue(text.lines().anyMatch(l -> l.strip().startsWith("exec java ") && l.contains("quarkus-run.jar")),
                "the entrypoint execs java -jar quarkus-run.jar");
        List<String> copies = all(instructions, "COPY");
        for (String part : List.of("target/quarkus-app/lib/", "target/quarkus-app/app/", "target/quarkus-app/quarkus/", "target/quarkus-app/*.jar")) {
            assertTrue(copies.stream().anyMatch(c -> c.contains(part)), "copies " + part);
        }
        // The build context is the repository; .dockerignore must let the application in.
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip).toList();
        assertTrue(ignore.contains("!target/quarkus-app/") && ignore.contains("!docker/entrypoint.sh"), ".dockerignore: " + ignore);
    }
}
