package dev.weldr.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The native-image configuration in src/main/resources/META-INF/native-image/dev.weldr/weldr/:
 * up to date with the libraries on the class path, and naming only classes, members and
 * resources that exist. (No native image is built by this test: see README.md.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NativeImageConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** First: with -Dweldr.native-config.write=true it rewrites the files the other tests read. */
    @Test
    @Order(1)
    void committedConfigurationIsWhatTheGeneratorMakesFromTheLibraries() throws IOException {
        boolean write = Boolean.getBoolean("weldr.native-config.write");
        Map<String, String> generated = NativeImageConfig.generate();
        assertEquals(NativeImageConfig.FILES, new ArrayList<>(generated.keySet()));
        for (Map.Entry<String, String> file : generated.entrySet()) {
            Path path = NativeImageConfig.DIR.resolve(file.getKey());
            if (write) {
                Files.createDirectories(path.getParent());
                Files.writeString(path, file.getValue());
            }
            assertTrue(Files.exists(path), path + " is missing: run ./mvnw -B test -Dtest=NativeImageConfigTest -Dweldr.native-config.write=true");
            assertEquals(file.getValue(), Files.readString(path), path + " is out of date (a library changed?): "
                    + "run ./mvnw -B test -Dtest=NativeImageConfigTest -Dweldr.native-config.write=true and review the diff");
        }
    }

    @Test
    void everyProtobufMessageOfJRaftCanBeParsedAndInstantiatedByName() throws IOException {
        Map<String, JsonNode> reflection = byName(read("reflect-config.json"));
        List<String> messages = NativeImageConfig.protobufMessageClasses();
        assertTrue(messages.size() > 30, "raft.desc lists JRaft's messages: " + messages);
        for (String message : messages) {
            JsonNode entry = reflection.get(message);
            assertNotNull(entry, message + " is not registered for reflection");
            assertTrue(entry.path("allPublicMethods").asBoolean(), message + ": public methods (parseFrom, getDefaultInstance)");
            // What ProtobufMsgFactory looks up with MethodHandles: both must be public static methods.
            Class<?> type = NativeImageConfig.load(message);
            for (Method m : List.of(method(type, "parseFrom", byte[].class), method(type, "getDefaultInstance"))) {
                assertTrue(Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()), m.toString());
            }
        }
    }

    @Test
    void everyJRaftServiceProviderCanBeInstantiatedByReflection() throws IOException {
        Map<String, JsonNode> reflection = byName(read("reflect-config.json"));
        List<String> providers = NativeImageConfig.jraftServiceProviders();
        assertTrue(providers.contains("com.alipay.sofa.jraft.rpc.impl.BoltRaftRpcFactory"), "providers: " + providers);
        assertTrue(providers.contains("com.alipay.sofa.jraft.core.DefaultJRaftServiceFactory"), "providers: " + providers);
        for (String provider : providers) {
            JsonNode entry = reflection.get(provider);
            assertNotNull(entry, provider + " is not registered");
            assertTrue(entry.path("methods").toString().contains("\"<init>\""), provider + ": its constructor");
        }
    }

    @Test
    void rocksDbJniLookupsAreRegistered() throws IOException {
        Set<String> jni = byName(read("jni-config.json")).keySet();
        for (String name : List.of("org.rocksdb.RocksDBException", "org.rocksdb.Status", "java.lang.String", "java.util.ArrayList")) {
            assertTrue(jni.contains(name), name + " (FindClass in librocksdbjni) is not in jni-config.json: " + jni);
        }
    }

    @Test
    void everyClassFieldAndMethodNamedExists() throws IOException {
        for (String file : List.of("reflect-config.json", "jni-config.json")) {
            for (JsonNode entry : read(file)) {
                String name = entry.path("name").asText();
                Class<?> type = NativeImageConfig.load(name);
                for (JsonNode field : entry.path("fields")) {
                    try {
                        type.getDeclaredField(field.path("name").asText());
                    } catch (NoSuchFieldException e) {
                        fail(file + ": " + name + " has no field " + field.path("name").asText());
                    }
                }
                for (JsonNode method : entry.path("methods")) {
                    List<Class<?>> parameters = new ArrayList<>();
                    method.path("parameterTypes").forEach(p -> parameters.add(type(p.asText())));
                    String methodName = method.path("name").asText();
                    try {
                        if (methodName.equals("<init>")) {
                            type.getDeclaredConstructor(parameters.toArray(Class[]::new));
                        } else {
                            type.getDeclaredMethod(methodName, parameters.toArray(Class[]::new));
                        }
                    } catch (NoSuchMethodException e) {
                        fail(file + ": " + name + " has no method " + methodName + parameters);
                    }
                }
            }
        }
    }

    @Test
    void everyResourceGlobMatchesAResourceOnTheClassPath() throws IOException {
        JsonNode globs = read("resource-config.json").path("globs");
        assertFalse(globs.isEmpty());
        Set<String> resources = classPathResources();
        for (JsonNode glob : globs) {
            String g = glob.path("glob").asText();
            Pattern regex = Pattern.compile(Pattern.quote(g).replace("*", "\\E[^/]*\\Q"));
            assertTrue(resources.stream().anyMatch(r -> regex.matcher(r).matches()), "no resource matches " + g);
        }
    }

    @Test
    void nativeLibrariesAndThreadedStaticStateAreInitializedAtRunTime() throws IOException {
        Properties properties = new Properties();
        try (var in = Files.newInputStream(NativeImageConfig.DIR.resolve("native-image.properties"))) {
            properties.load(in);
        }
        String args = properties.getProperty("Args", "");
        var m = Pattern.compile("--initialize-at-run-time=(\\S+)").matcher(args);
        assertTrue(m.find(), "Args: " + args);
        Set<String> packages = new TreeSet<>(List.of(m.group(1).split(",")));
        for (String p : List.of("org.rocksdb", "com.alipay", "com.lmax.disruptor")) {
            assertTrue(packages.contains(p), p + " is initialized at build time: " + packages);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static Class<?> type(String name) {
        if (name.endsWith("[]")) {
            return type(name.substring(0, name.length() - 2)).arrayType();
        }
        return switch (name) {
            case "boolean" -> boolean.class;
            case "byte" -> byte.class;
            case "char" -> char.class;
            case "short" -> short.class;
            case "int" -> int.class;
            case "long" -> long.class;
            case "float" -> float.class;
            case "double" -> double.class;
            default -> NativeImageConfig.load(name);
        };
    }

    private static JsonNode read(String file) throws IOException {
        return JSON.readTree(NativeImageConfig.DIR.resolve(file).toFile());
    }

    private static Map<String, JsonNode> byName(JsonNode entries) {
        Map<String, JsonNode> byName = new HashMap<>();
        entries.forEach(e -> assertTrue(byName.put(e.path("name").asText(), e) == null, "registered twice: " + e.path("name")));
        return byName;
    }

    private static Method method(Class<?> type, String name, Class<?>... parameters) {
        try {
            return type.getMethod(name, parameters);
        } catch (NoSuchMethodException e) {
            return fail(type.getName() + " has no public " + name);
        }
    }

    /** Every resource name in every jar and directory of the test class path. */
    private static Set<String> classPathResources() throws IOException {
        Set<String> names = new TreeSet<>();
        for (URL manifest : Collections.list(NativeImageConfigTest.class.getClassLoader().getResources("META-INF/MANIFEST.MF"))) {
            if (manifest.getProtocol().equals("jar")) {
                JarURLConnection connection = (JarURLConnection) manifest.openConnection();
                connection.setUseCaches(false);
                try (JarFile jar = new JarFile(connection.getJarFileURL().getPath())) {
                    jar.stream().forEach(e -> names.add(e.getName()));
                }
            }
        }
        return names;
    }
}
