package dev.weldr.raft;

import dev.weldr.config.InvalidConfigException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The identity of the cluster a data directory belongs to, used as the Raft group id. Raft
 * messages name their group, and a node answers only for its own: a node that bootstrapped a
 * cluster of its own can therefore never vote in, nor overwrite the log of, another cluster it
 * is mistakenly added to. That is what makes "bootstrapping twice" harmless.
 *
 * <p>Bootstrapping nodes derive the id from their initial peer list, so that every node started
 * with the same {@code weldr.raft.peers} agrees without talking; a joining node takes it from the
 * cluster it joins. Once written to {@code <data-dir>/cluster-id}, the id never changes.
 */
final class ClusterIdentity {

    static final String FILE = "cluster-id";

    private ClusterIdentity() {
    }

    /**
     * @param joined the id of the cluster named by {@code weldr.raft.join}, asked only for an empty
     *               data directory (it waits for that cluster to answer, and fails if it never does)
     * @param check  the same id if that cluster answers at once, else empty: for a data directory
     *               that already belongs to a cluster, {@code weldr.raft.join} is only checked, never
     *               needed (the node it names may be down, or gone from the cluster, by now)
     */
    static String resolve(Path dataDir, List<String> peers, String self, Optional<Supplier<String>> joined,
                          Optional<Supplier<Optional<String>>> check) {
        Path file = dataDir.resolve(FILE);
        try {
            if (Files.exists(file)) {
                String stored = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (check.isPresent()) {
                    String wanted = check.get().get().orElse(stored);
                    if (!wanted.equals(stored)) {
                        throw new InvalidConfigException("weldr.raft.join", "the data directory " + dataDir
                                + " belongs to cluster " + stored + ", not to " + wanted
                                + " which this node was told to join; a joining node needs an empty data directory");
                    }
                }
                return stored;
            }
            if (hasRaftState(dataDir)) {
                throw new InvalidConfigException("weldr.raft.data-dir", dataDir
                        + " holds Raft state but no " + FILE + "; it was not written by this version of weldr");
            }
            String id = joined.map(Supplier::get).orElseGet(() -> derive(peers.isEmpty() ? List.of(self) : peers));
            Files.createDirectories(dataDir);
            Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("weldr.raft.data-dir: cannot use " + dataDir, e);
        }
    }

    static String derive(List<String> peers) {
        TreeSet<String> sorted = new TreeSet<>();
        peers.forEach(p -> sorted.add(p.trim().toLowerCase()));
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(String.join(",", sorted).getBytes(StandardCharsets.UTF_8));
            return "weldr-" + HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean hasRaftState(Path dataDir) throws IOException {
        Path meta = dataDir.resolve("meta");
        if (!Files.isDirectory(meta)) {
            return false;
        }
        try (var entries = Files.list(meta)) {
            return entries.findAny().isPresent();
        }
    }
}
