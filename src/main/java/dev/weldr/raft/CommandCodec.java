package dev.weldr.raft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Encodes pool commands as Raft log entries. The format is a small JSON object with an
 * {@code op} field; an entry that does not decode is a fatal error for the state machine,
 * never something to skip.
 */
public final class CommandCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CommandCodec() {
    }

    public static byte[] encode(PoolCommand command) {
        ObjectNode node = JSON.createObjectNode();
        if (command instanceof PoolCommand.AddServer add) {
            node.put("op", "add");
            node.set("server", ServerJson.write(JSON, add.server()));
        } else if (command instanceof PoolCommand.RemoveServer remove) {
            node.put("op", "remove");
            node.put("host", remove.key().host());
            node.put("port", remove.key().port());
        } else if (command instanceof PoolCommand.RegisterNode register) {
            node.put("op", "register-node");
            node.put("node", register.nodeId());
            node.put("admin", register.adminUrl());
        } else {
            throw new IllegalArgumentException("cannot encode " + command);
        }
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PoolCommand decode(ByteBuffer data) throws CorruptEntryException {
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        try {
            JsonNode node = JSON.readTree(bytes);
            String op = node.path("op").asText("");
            return switch (op) {
                case "add" -> new PoolCommand.AddServer(ServerJson.read(node.required("server")));
                case "remove" -> new PoolCommand.RemoveServer(
                        new ServerKey(node.required("host").asText(), node.required("port").asInt()));
                case "register-node" -> new PoolCommand.RegisterNode(node.required("node").asText(),
                        node.required("admin").asText());
                default -> throw new CorruptEntryException("unknown op '" + op + "'");
            };
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            throw new CorruptEntryException(e.getMessage());
        }
    }

    /** A log entry this version of weldr cannot read. */
    public static final class CorruptEntryException extends Exception {
        public CorruptEntryException(String message) {
            super(message);
        }
    }

    static final class ServerJson {
        private ServerJson() {
        }

        static ObjectNode write(ObjectMapper json, Server s) {
            ObjectNode n = json.createObjectNode();
            n.put("scheme", s.scheme());
            n.put("host", s.host());
            n.put("port", s.port());
            n.put("weight", s.weight());
            n.put("draining", s.draining());
            return n;
        }

        static Server read(JsonNode n) {
            return new Server(n.required("scheme").asText(), n.required("host").asText(),
                    n.required("port").asInt(), n.path("weight").asInt(Server.DEFAULT_WEIGHT),
                    n.path("draining").asBoolean(false));
        }
    }
}
