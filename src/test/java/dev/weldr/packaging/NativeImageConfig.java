package dev.weldr.packaging;

import com.alipay.sofa.jraft.JRaftServiceFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import org.rocksdb.RocksDB;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Generates the native-image configuration that SOFAJRaft, bolt, RocksDB, protobuf and the
 * Disruptor need and do not ship, into src/main/resources/META-INF/native-image/dev.weldr/weldr/.
 * Most of it is computed from the libraries on the class path, so that an upgrade that adds a
 * message type or a JNI class changes it: NativeImageConfigTest fails when the committed files
 * differ from what this generates. To regenerate them:
 *
 * <pre>./mvnw -B test -Dtest=NativeImageConfigTest -Dweldr.native-config.write=true</pre>
 */
final class NativeImageConfig {

    static final Path DIR = Path.of("src/main/resources/META-INF/native-image/dev.weldr/weldr");

    /** Files this generates; native-image.properties beside them is written by hand. */
    static final List<String> FILES = List.of("reflect-config.json", "jni-config.json", "resource-config.json");

    /** Resources read at run time with getResource, as globs. */
    static final List<String> RESOURCES = List.of(
            // JRaft's protobuf descriptors: ProtobufMsgFactory finds every message class from them.
            "raft.desc",
            // JRaft's own service loader reads these and instantiates the classes they name.
            "META-INF/services/com.alipay.sofa.jraft.*",
            // RocksDB unpacks its JNI library from the class path (glibc x86-64 and aarch64).
            "librocksdbjni-linux64.so",
            "librocksdbjni-linux-aarch64.so",
            // sofa-hessian (bolt's default serializer, used for error responses) reads its deny list.
            "security/serialize.blacklist");

    private NativeImageConfig() {
    }

    /** File name to content, for every file in {@link #FILES}. */
    static Map<String, String> generate() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("reflect-config.json", json(reflection()));
        files.put("jni-config.json", json(jni()));
        files.put("resource-config.json", json(resources()));
        return files;
    }

    // ---------------------------------------------------------------------------------------------

    private static List<Map<String, Object>> reflection() {
        Map<String, Map<String, Object>> entries = new TreeMap<>();

        // Protobuf messages of JRaft: ProtobufMsgFactory looks up parseFrom(byte[]) and
        // getDefaultInstance() of each by name; protobuf's reflective accessors (toString, field
        // access by descriptor) call the public methods of messages, builders and enums.
        for (String outer : protobufOuterClasses()) {
            for (Class<?> type : withNestedClasses(load(outer))) {
                entries.put(type.getName(), entry(type.getName(), "allDeclaredConstructors", "allPublicMethods"));
            }
        }

        // JRaft's service loader: Class.forName and the no-argument constructor of each provider.
        for (String provider : jraftServiceProviders()) {
            Map<String, Object> e = entry(provider);
            e.put("methods", List.of(method("<init>")));
            entries.put(provider, e);
        }

        // sun.misc.Unsafe, found by reflection by the Disruptor and by JRaft's Utils.
        entries.put("sun.misc.Unsafe", fields("sun.misc.Unsafe", "theUnsafe"));
        // Disruptor: Sequence's value is read and written through Unsafe with an offset found by
        // reflection, Util reads Buffer.address, and two classes use field updaters.
        entries.put("com.lmax.disruptor.Value", unsafeFields("com.lmax.disruptor.Value", "value"));
        entries.put("java.nio.Buffer", unsafeFields("java.nio.Buffer", "address"));
        entries.put("com.lmax.disruptor.SequenceGroup", fields("com.lmax.disruptor.SequenceGroup", "sequences"));
        entries.put("com.lmax.disruptor.AbstractSequencer", fields("com.lmax.disruptor.AbstractSequencer", "gatingSequences"));
        // JRaft's ThreadHelper checks for Thread.onSpinWait by reflection (and falls back to a
        // plain spinner when it cannot generate its class at run time, as in a native image).
        Map<String, Object> thread = entry("java.lang.Thread");
        thread.put("methods", List.of(method("onSpinWait")));
        entries.put("java.lang.Thread", thread);
        // Bolt: the channel classes are created reflectively by Netty's bootstrap.
        for (String channel : List.of("io.netty.channel.socket.nio.NioSocketChannel", "io.netty.channel.socket.nio.NioServerSocketChannel",
                "io.netty.channel.epoll.EpollSocketChannel", "io.netty.channel.epoll.EpollServerSocketChannel")) {
            Map<String, Object> e = entry(channel);
            e.put("methods", List.of(method("<init>")));
            entries.put(channel, e);
        }
        // Bolt sends a server-side failure as a Hessian-serialized exception; Hessian allocates
        // and fills it through reflection.
        for (String type : List.of("com.alipay.remoting.rpc.exception.RpcServerException", "com.alipay.remoting.exception.RemotingException",
                "java.lang.Throwable", "java.lang.Exception", "java.lang.RuntimeException", "java.lang.StackTraceElement")) {
            Map<String, Object> e = entry(type, "allDeclaredConstructors", "allDeclaredFields");
            e.put("unsafeAllocated", true);
            entries.put(type, e);
        }
        // weldr's own JSON records are registered by AdminJsonFeature (src/native/java), which
        // finds them when the image is built: nothing to keep up to date here.
        return new ArrayList<>(entries.values());
    }

    /** The outer classes of JRaft's generated protobuf code, from raft.desc as ProtobufMsgFactory reads it. */
    static List<String> protobufOuterClasses() {
        try (InputStream in = JRaftServiceFactory.class.getResourceAsStream("/raft.desc")) {
            if (in == null) {
                throw new IllegalStateException("raft.desc is not on the class path");
            }
            List<String> outers = new ArrayList<>();
            for (FileDescriptorProto file : FileDescriptorSet.parseFrom(in).getFileList()) {
                outers.add(file.getOptions().getJavaPackage() + "." + file.getOptions().getJavaOuterClassname());
            }
            return outers;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The message classes ProtobufMsgFactory loads: outer class $ top-level message name. */
    static List<String> protobufMessageClasses() {
        try (InputStream in = JRaftServiceFactory.class.getResourceAsStream("/raft.desc")) {
            List<String> classes = new ArrayList<>();
            for (FileDescriptorProto file : FileDescriptorSet.parseFrom(in).getFileList()) {
                String outer = file.getOptions().getJavaPackage() + "." + file.getOptions().getJavaOuterClassname();
                file.getMessageTypeList().forEach(m -> classes.add(outer + "$" + m.getName()));
            }
            return classes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Class<?>> withNestedClasses(Class<?> outer) {
        List<Class<?>> all = new ArrayList<>();
        Deque<Class<?>> todo = new ArrayDeque<>(List.of(outer));
        while (!todo.isEmpty()) {
            Class<?> c = todo.pop();
            all.add(c);
            todo.addAll(List.of(c.getDeclaredClasses()));
        }
        return all;
    }

    /** The providers named in jraft-core's META-INF/services files, and in weldr's own (its RPC factory). */
    static List<String> jraftServiceProviders() {
        TreeSet<String> providers = new TreeSet<>();
        try (ZipFile jar = new ZipFile(jarOf(JRaftServiceFactory.class).toFile())) {
            for (ZipEntry entry : jar.stream().filter(e -> e.getName().startsWith("META-INF/services/com.alipay.sofa.jraft.")).toList()) {
                addProviders(new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8), providers);
            }
            java.nio.file.Path own = java.nio.file.Path.of("src", "main", "resources", "META-INF", "services");
            if (java.nio.file.Files.isDirectory(own)) {
                try (var files = java.nio.file.Files.list(own)) {
                    for (java.nio.file.Path f : files.filter(f -> f.getFileName().toString().startsWith("com.alipay.sofa.jraft.")).toList()) {
                        addProviders(java.nio.file.Files.readString(f), providers);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ArrayList<>(providers);
    }

    private static void addProviders(String text, TreeSet<String> providers) {
        text.lines().map(l -> l.replaceAll("#.*", "").strip()).filter(l -> !l.isEmpty()).forEach(providers::add);
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * RocksDB's JNI code looks classes up by name (FindClass) to build results, throw
     * RocksDBException and call back into Java: the names are the strings of the library itself.
     */
    private static List<Map<String, Object>> jni() {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (String name : rocksDbJniClasses()) {
            entries.add(entry(name, "allDeclaredConstructors", "allDeclaredMethods", "allDeclaredFields"));
        }
        return entries;
    }

    private static final Pattern JNI_CLASS = Pattern.compile("(?:java|org/rocksdb)/[A-Za-z0-9_/$]+");

    /** The classes named in librocksdbjni-linux64.so that exist (some names are only prefixes). */
    static List<String> rocksDbJniClasses() {
        byte[] library;
        try (ZipFile jar = new ZipFile(jarOf(RocksDB.class).toFile())) {
            library = jar.getInputStream(jar.getEntry("librocksdbjni-linux64.so")).readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TreeSet<String> names = new TreeSet<>();
        StringBuilder run = new StringBuilder();
        for (byte b : library) {
            if (b >= 0x20 && b < 0x7f) {
                run.append((char) b);
                continue;
            }
            if (b == 0 && run.length() >= 6) {
                Matcher m = JNI_CLASS.matcher(run);
                if (m.matches()) {
                    String name = run.toString().replace('/', '.');
                    if (exists(name)) {
                        names.add(name);
                    }
                }
            }
            run.setLength(0);
        }
        return new ArrayList<>(names);
    }

    private static Map<String, Object> resources() {
        List<Map<String, Object>> globs = RESOURCES.stream().map(g -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("glob", g);
            return m;
        }).toList();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("globs", globs);
        return config;
    }

    // ---------------------------------------------------------------------------------------------

    private static Map<String, Object> entry(String name, String... flags) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        for (String flag : flags) {
            e.put(flag, true);
        }
        return e;
    }

    private static Map<String, Object> method(String name, String... parameterTypes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("parameterTypes", List.of(parameterTypes));
        return m;
    }

    private static Map<String, Object> fields(String type, String... names) {
        Map<String, Object> e = entry(type);
        e.put("fields", Stream.of(names).map(n -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", n);
            return f;
        }).toList());
        return e;
    }

    private static Map<String, Object> unsafeFields(String type, String... names) {
        Map<String, Object> e = entry(type);
        e.put("fields", Stream.of(names).map(n -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", n);
            f.put("allowUnsafeAccess", true);
            return f;
        }).toList());
        return e;
    }

    static Class<?> load(String name) {
        try {
            return Class.forName(name, false, NativeImageConfig.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(name + " is not on the class path", e);
        }
    }

    static boolean exists(String name) {
        try {
            Class.forName(name, false, NativeImageConfig.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static Path jarOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String json(Object value) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
