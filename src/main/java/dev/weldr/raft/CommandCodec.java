package dev.weldr.raft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.ServerKey;

import java.io.IOException;
import java.nio.ByteBuffer;

import static dev.weldr.raft.TopologyJson.JSON;

/**
 * Encodes commands as Raft log entries: a small JSON object with an {@code op} field, and the
 * change's audit record in an {@code audit} field (absent from entries written before the audit
 * log existed, and from the leader's own bookkeeping), so that a change and its record commit
 * together. An entry that does not decode is a fatal error for the state machine, never something to skip.
 */
public final class CommandCodec {

    private CommandCodec() {
    }

    /** A decoded log entry: its command, and its audit record or null. */
    public record Entry(PoolCommand command, AuditEntry audit) {
    }

    public static byte[] encode(PoolCommand command) {
        return encode(command, null);
    }

    public static byte[] encode(PoolCommand command, AuditEntry audit) {
        ObjectNode n = JSON.createObjectNode();
        if (command instanceof PoolCommand.AddServer c) {
            n.put("op", "add-server").put("pool", c.pool()).set("server", TopologyJson.server(c.server()));
        } else if (command instanceof PoolCommand.RemoveServer c) {
            n.put("op", "remove-server").put("pool", c.pool()).put("host", c.key().host()).put("port", c.key().port());
        } else if (command instanceof PoolCommand.UpdateServer c) {
            n.put("op", "update-server").put("pool", c.pool()).put("host", c.key().host()).put("port", c.key().port());
            if (c.weight() != null) {
                n.put("weight", c.weight());
            }
            if (c.draining() != null) {
                n.put("draining", c.draining());
            }
        } else if (command instanceof PoolCommand.CreatePool c) {
            n.put("op", "create-pool").put("name", c.name()).set("settings", TopologyJson.settings(c.settings()));
        } else if (command instanceof PoolCommand.UpdatePool c) {
            n.put("op", "update-pool").put("name", c.name()).set("settings", TopologyJson.settings(c.settings()));
        } else if (command instanceof PoolCommand.DeletePool c) {
            n.put("op", "delete-pool").put("name", c.name());
        } else if (command instanceof PoolCommand.PutRoute c) {
            n.put("op", "put-route").set("route", TopologyJson.route(c.route()));
        } else if (command instanceof PoolCommand.DeleteRoute c) {
            n.put("op", "delete-route").put("name", c.name());
        } else if (command instanceof PoolCommand.RegisterNode c) {
            n.put("op", "register-node").put("node", c.nodeId()).put("admin", c.adminUrl());
        } else if (command instanceof PoolCommand.PutCertificate c) {
            n.put("op", "put-certificate").set("certificate", TopologyJson.certificate(c.certificate()));
        } else if (command instanceof PoolCommand.DeleteCertificate c) {
            n.put("op", "delete-certificate").put("name", c.name());
        } else if (command instanceof PoolCommand.PutManagedCertificate c) {
            n.put("op", "put-managed-certificate").set("managed", TopologyJson.managed(c.managed()));
        } else if (command instanceof PoolCommand.AcmeProgress c) {
            n.put("op", "acme-progress").set("managed", TopologyJson.managed(c.managed()));
            if (c.issued() != null) {
                n.set("issued", TopologyJson.certificate(c.issued()));
            }
        } else if (command instanceof PoolCommand.PutAcmeAccount c) {
            n.put("op", "put-acme-account").set("account", TopologyJson.acmeAccount(c.account()));
        } else if (command instanceof PoolCommand.AddTicketKey c) {
            n.put("op", "add-ticket-key").set("ticketKey", TopologyJson.ticketKey(c.key()));
        } else if (command instanceof PoolCommand.RecordAudit) {
            n.put("op", "record-audit");
        } else {
            throw new IllegalArgumentException("cannot encode " + command);
        }
        if (audit != null) {
            n.set("audit", TopologyJson.audit(audit));
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PoolCommand decode(ByteBuffer data) throws CorruptEntryException {
        return decodeEntry(data).command();
    }

    public static Entry decodeEntry(ByteBuffer data) throws CorruptEntryException {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        try {
            JsonNode n = JSON.readTree(bytes);
            return new Entry(command(n), n.hasNonNull("audit") ? TopologyJson.audit(n.get("audit")) : null);
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            throw new CorruptEntryException(e.getMessage());
        }
    }

    private static PoolCommand command(JsonNode n) throws CorruptEntryException {
        String op = n.path("op").asText("");
        return switch (op) {
            case "add-server" -> new PoolCommand.AddServer(text(n, "pool"), TopologyJson.server(n.required("server")));
            case "remove-server" -> new PoolCommand.RemoveServer(text(n, "pool"), key(n));
            case "update-server" -> new PoolCommand.UpdateServer(text(n, "pool"), key(n),
                    n.hasNonNull("weight") ? n.get("weight").asInt() : null,
                    n.hasNonNull("draining") ? n.get("draining").asBoolean() : null);
            case "create-pool" -> new PoolCommand.CreatePool(text(n, "name"), TopologyJson.settings(n.required("settings")));
            case "update-pool" -> new PoolCommand.UpdatePool(text(n, "name"), TopologyJson.settings(n.required("settings")));
            case "delete-pool" -> new PoolCommand.DeletePool(text(n, "name"));
            case "put-route" -> new PoolCommand.PutRoute(TopologyJson.route(n.required("route")));
            case "delete-route" -> new PoolCommand.DeleteRoute(text(n, "name"));
            case "register-node" -> new PoolCommand.RegisterNode(text(n, "node"), text(n, "admin"));
            case "put-certificate" -> new PoolCommand.PutCertificate(TopologyJson.certificate(n.required("certificate")));
            case "delete-certificate" -> new PoolCommand.DeleteCertificate(text(n, "name"));
            case "put-managed-certificate" -> new PoolCommand.PutManagedCertificate(TopologyJson.managed(n.required("managed")));
            case "acme-progress" -> new PoolCommand.AcmeProgress(TopologyJson.managed(n.required("managed")),
                    n.hasNonNull("issued") ? TopologyJson.certificate(n.get("issued")) : null);
            case "put-acme-account" -> new PoolCommand.PutAcmeAccount(TopologyJson.acmeAccount(n.required("account")));
            case "add-ticket-key" -> new PoolCommand.AddTicketKey(TopologyJson.ticketKey(n.required("ticketKey")));
            case "record-audit" -> new PoolCommand.RecordAudit();
            default -> throw new CorruptEntryException("unknown op '" + op + "'");
        };
    }

    private static String text(JsonNode n, String field) {
        return n.required(field).asText();
    }

    private static ServerKey key(JsonNode n) {
        return new ServerKey(text(n, "host"), n.required("port").asInt());
    }

    /** A log entry this version of weldr cannot read. */
    public static final class CorruptEntryException extends Exception {
        public CorruptEntryException(String message) {
            super(message);
        }
    }
}
