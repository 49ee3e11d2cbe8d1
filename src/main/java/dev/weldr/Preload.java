package dev.weldr;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads, on a second thread while Quarkus starts on the main one, the classes a start needs. A
 * start loads some 6,000 classes from jars, one after the other on the main thread, while a
 * second core has time to spare (the JIT compilers use about half of one). The list
 * ({@value #LIST}, written by {@code bench/startup-classes.sh}) is the classes a start loaded, in
 * their order, so this thread runs ahead of the main one, which then finds them loaded.
 *
 * <p>Classes are only loaded, never initialised ({@code Class.forName(name, false, loader)}): no
 * static initialiser runs on this thread or earlier than it would have, so what start-up does, and
 * in which order, is unchanged, and two threads can never wait for each other's initialisers (the
 * one exception, RocksDB's, is explained in {@link #run}). A name the class path no longer has
 * (the list is older than a dependency) is skipped.
 */
final class Preload implements Runnable {

    static final String LIST = "startup-classes.txt";

    private final ClassLoader loader;

    Preload(ClassLoader loader) {
        this.loader = loader;
    }

    /** Starts preloading on a daemon thread: it never delays the end of the process. */
    static void start() {
        Thread thread = new Thread(new Preload(Preload.class.getClassLoader()), "weldr-preload");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void run() {
        // The one initialiser run here is RocksDB's: it unpacks RocksDB's native library (13 MB)
        // from its jar into java.io.tmpdir and loads it, for the Raft node's log. It cannot wait
        // for the main thread while the main thread waits for it: what it initialises (RocksDB's
        // superclasses, which have no initialisers, CompressionType, NativeLibraryLoader,
        // Environment) never waits for RocksDB, and the main thread reaches RocksDB only when the
        // Raft node starts. If it fails (java.io.tmpdir mounted noexec), RocksDB stays unusable
        // and the Raft node's start fails, as it would have.
        try {
            Class.forName("org.rocksdb.RocksDB", true, loader);
        } catch (Throwable e) {
            // the Raft node's start meets it and fails
        }
        for (String name : names()) {
            try {
                Class.forName(name, false, loader);
            } catch (Throwable e) {
                // not on this class path: a list older than a dependency, or a class of another platform
            }
        }
    }

    /** The list's class names, without its comment lines; empty if the list is missing. */
    List<String> names() {
        List<String> names = new ArrayList<>();
        InputStream in = loader.getResourceAsStream("dev/weldr/" + LIST);
        if (in == null) {
            return names;
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
        } catch (IOException e) {
            // a partial list only loads fewer classes ahead
        }
        return names;
    }
}
