package dev.weldr;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up class list is current enough to be worth loading, and loading it runs no listed class's initialiser. */
class PreloadTest {

    @Test
    void shouldListTheClassesOfAStartMostOfWhichExist() {
        List<String> names = new Preload(PreloadTest.class.getClassLoader()).names();
        assertTrue(names.size() > 3000, "only " + names.size() + " classes listed");
        assertEquals(names.size(), new HashSet<>(names).size(), "a class is listed twice");
        for (String name : names) {
            assertTrue(name.matches("[^\\s/;\\[]+\\.[^\\s/;\\[]+") && !name.contains("$$Lambda"), "not a class name: " + name);
        }
        assertTrue(names.containsAll(List.of("dev.weldr.raft.RaftNode", "com.alipay.sofa.jraft.core.NodeImpl",
                "io.smallrye.openapi.api.SmallRyeOpenAPI")), "the list misses the Raft node or OpenAPI");

        // Quarkus's generated classes exist only in the packaged application; every other name
        // should be on this class path, unless the list is older than the dependencies.
        int missing = 0;
        for (String name : names) {
            try {
                Class.forName(name, false, PreloadTest.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                missing++;
            }
        }
        assertTrue(missing < names.size() / 5,
                missing + " of " + names.size() + " listed classes do not exist: run bench/startup-classes.sh");
    }

    @Test
    void shouldLoadTheListedClassesWithoutInitialisingThem() {
        Set<String> requested = ConcurrentHashMap.newKeySet();
        String list = "# a comment\n" + Initialised.class.getName() + "\n\ndev.weldr.NoSuchClass\n";
        ClassLoader loader = new ClassLoader(PreloadTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                requested.add(name);
                if (name.startsWith("org.rocksdb.")) {
                    // as if RocksDB were missing: the preload goes on without it
                    throw new ClassNotFoundException(name);
                }
                return super.loadClass(name, resolve);
            }

            @Override
            public InputStream getResourceAsStream(String name) {
                return name.equals("dev/weldr/" + Preload.LIST)
                        ? new ByteArrayInputStream(list.getBytes(StandardCharsets.UTF_8))
                        : super.getResourceAsStream(name);
            }
        };
        new Preload(loader).run();

        assertTrue(requested.containsAll(Set.of("org.rocksdb.RocksDB", Initialised.class.getName(), "dev.weldr.NoSuchClass")),
                requested.toString());
        assertFalse(initialised, "a listed class was initialised");
    }

    /** Set by {@link Initialised}'s initialiser (a field of its own would initialise it when read). */
    static volatile boolean initialised;

    static class Initialised {
        static {
            initialised = true;
        }
    }
}
