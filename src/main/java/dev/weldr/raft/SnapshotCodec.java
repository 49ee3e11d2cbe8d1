package dev.weldr.raft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weldr.pool.Topology;
import dev.weldr.pool.Server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Writes and reads the pool snapshot file. */
public final class SnapshotCodec {

    public static final String FILE = "pool.json";
    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SnapshotCodec() {
    }

    public static byte[] toBytes(Topology pool) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("appliedIndex", pool.appliedIndex());
        ArrayNode servers = root.putArray("servers");
        for (Server s : pool.servers()) {
            servers.add(CommandCodec.ServerJson.write(JSON, s));
        }
        ObjectNode nodes = root.putObject("nodes");
        pool.nodes().forEach(nodes::put);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Topology fromBytes(byte[] bytes) throws IOException {
        JsonNode root = JSON.readTree(bytes);
        int format = root.path("format").asInt(-1);
        if (format != FORMAT) {
            throw new IOException("unsupported snapshot format " + format);
        }
        List<Server> servers = new ArrayList<>();
        for (JsonNode n : root.required("servers")) {
            servers.add(CommandCodec.ServerJson.read(n));
        }
        Map<String, String> nodes = new TreeMap<>();
        root.path("nodes").fields().forEachRemaining(e -> nodes.put(e.getKey(), e.getValue().asText()));
        return Topology.of(root.required("appliedIndex").asLong(), servers, nodes);
    }

    /** Writes the file through a temporary name so that a crash never leaves half a snapshot. */
    public static void write(Topology pool, Path dir) throws IOException {
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.write(tmp, toBytes(pool));
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public static Topology read(Path dir) throws IOException {
        return fromBytes(Files.readAllBytes(dir.resolve(FILE)));
    }
}
