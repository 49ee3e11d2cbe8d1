package dev.weldr.raft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weldr.pool.AcmeAccount;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Certificate;
import dev.weldr.pool.ManagedCertificate;
import dev.weldr.pool.Pool;
import dev.weldr.pool.Route;
import dev.weldr.pool.Server;
import dev.weldr.pool.TicketKey;
import dev.weldr.pool.Topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.weldr.raft.TopologyJson.JSON;

/**
 * Writes and reads the snapshot file: the whole topology as JSON, session-ticket keys included
 * (so a node restarted or installed from a snapshot still decrypts the tickets it issued).
 */
public final class SnapshotCodec {

    public static final String FILE = "topology.json";
    private static final int FORMAT = 2;

    private SnapshotCodec() {
    }

    public static byte[] toBytes(Topology topology) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("appliedIndex", topology.appliedIndex());
        ArrayNode pools = root.putArray("pools");
        for (Pool p : topology.pools()) {
            ObjectNode pn = pools.addObject();
            pn.put("name", p.name());
            pn.set("settings", TopologyJson.settings(p.settings()));
            ArrayNode servers = pn.putArray("servers");
            p.servers().forEach(s -> servers.add(TopologyJson.server(s)));
        }
        ArrayNode routes = root.putArray("routes");
        topology.routes().forEach(r -> routes.add(TopologyJson.route(r)));
        ObjectNode nodes = root.putObject("nodes");
        topology.nodes().forEach(nodes::put);
        // Absent from snapshots written before certificates existed, which therefore still load.
        ArrayNode certificates = root.putArray("certificates");
        topology.certificates().values().forEach(c -> certificates.add(TopologyJson.certificate(c)));
        // Absent from snapshots written before session-ticket keys were replicated: those load with none.
        ArrayNode ticketKeys = root.putArray("ticketKeys");
        topology.ticketKeys().forEach(k -> ticketKeys.add(TopologyJson.ticketKey(k)));
        // Both absent from snapshots written before ACME: those load with no account and nothing managed.
        if (topology.acmeAccount() != null) {
            root.set("acmeAccount", TopologyJson.acmeAccount(topology.acmeAccount()));
        }
        ArrayNode managed = root.putArray("managed");
        topology.managed().values().forEach(m -> managed.add(TopologyJson.managed(m)));
        // Absent from snapshots written before the audit log: those load with an empty one.
        ArrayNode audit = root.putArray("audit");
        topology.audit().forEach(a -> audit.add(TopologyJson.audit(a)));
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
        try {
            List<Pool> pools = new ArrayList<>();
            for (JsonNode pn : root.required("pools")) {
                List<Server> servers = new ArrayList<>();
                pn.required("servers").forEach(s -> servers.add(TopologyJson.server(s)));
                pools.add(Pool.of(pn.required("name").asText(), TopologyJson.settings(pn.required("settings")), servers));
            }
            List<Route> routes = new ArrayList<>();
            root.path("routes").forEach(r -> routes.add(TopologyJson.route(r)));
            Map<String, String> nodes = new TreeMap<>();
            root.path("nodes").fields().forEachRemaining(e -> nodes.put(e.getKey(), e.getValue().asText()));
            List<Certificate> certificates = new ArrayList<>();
            root.path("certificates").forEach(c -> certificates.add(TopologyJson.certificate(c)));
            List<TicketKey> ticketKeys = new ArrayList<>();
            root.path("ticketKeys").forEach(k -> ticketKeys.add(TopologyJson.ticketKey(k)));
            List<ManagedCertificate> managed = new ArrayList<>();
            root.path("managed").forEach(m -> managed.add(TopologyJson.managed(m)));
            AcmeAccount account = root.hasNonNull("acmeAccount") ? TopologyJson.acmeAccount(root.get("acmeAccount")) : null;
            List<AuditEntry> audit = new ArrayList<>();
            root.path("audit").forEach(a -> audit.add(TopologyJson.audit(a)));
            return Topology.of(root.required("appliedIndex").asLong(), pools, routes, nodes, certificates, ticketKeys, account, managed,
                    audit);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IOException("the snapshot cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the file through a temporary name so that a crash never leaves half a snapshot. The
     * file is the owner's only: it holds the certificates' private keys and the session-ticket keys.
     */
    public static void write(Topology topology, Path dir) throws IOException {
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.deleteIfExists(tmp);
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.write(tmp, toBytes(topology));
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public static Topology read(Path dir) throws IOException {
        return fromBytes(Files.readAllBytes(dir.resolve(FILE)));
    }
}
