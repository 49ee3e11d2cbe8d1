package dev.weldr.raft;

import dev.weldr.pool.Topology;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CodecTest {

    private static final Server A = new Server("http", "127.0.0.1", 8001, 1, false);
    private static final Server B = new Server("https", "::1", 443, 5, true);

    @Test
    void shouldRoundTripEveryCommand() throws Exception {
        for (PoolCommand command : List.of(new PoolCommand.AddServer(A), new PoolCommand.AddServer(B),
                new PoolCommand.RemoveServer(new ServerKey("::1", 443)),
                new PoolCommand.RegisterNode("10.0.0.1:8688", "http://10.0.0.1:8687"))) {
            assertEquals(command, CommandCodec.decode(ByteBuffer.wrap(CommandCodec.encode(command))));
        }
    }

    @Test
    void shouldRefuseAnEntryItCannotRead() {
        for (String entry : List.of("", "{", "{\"op\":\"explode\"}", "{\"op\":\"add\"}", "{\"op\":\"remove\",\"host\":\"a\"}")) {
            ByteBuffer data = ByteBuffer.wrap(entry.getBytes(StandardCharsets.UTF_8));
            assertThrows(CommandCodec.CorruptEntryException.class, () -> CommandCodec.decode(data), entry);
        }
    }

    @Test
    void shouldRoundTripASnapshotWithOrderAndIndex(@TempDir Path dir) throws Exception {
        Topology pool = Topology.of(42, List.of(B, A), java.util.Map.of("10.0.0.2:8688", "http://10.0.0.2:8687"));
        SnapshotCodec.write(pool, dir);
        Topology read = SnapshotCodec.read(dir);
        assertEquals(pool, read);
        assertEquals(42, read.appliedIndex());
        assertEquals(List.of(B, A), List.copyOf(read.servers()));
        assertEquals("http://10.0.0.2:8687", read.nodes().get("10.0.0.2:8688"));
        assertFalse(Files.exists(dir.resolve(SnapshotCodec.FILE + ".tmp")));
    }

    @Test
    void shouldRoundTripAnEmptySnapshot(@TempDir Path dir) throws Exception {
        SnapshotCodec.write(Topology.EMPTY, dir);
        assertEquals(Topology.EMPTY, SnapshotCodec.read(dir));
    }

    @Test
    void shouldRefuseASnapshotOfAnUnknownFormat() {
        byte[] bytes = "{\"format\":99,\"appliedIndex\":1,\"servers\":[]}".getBytes(StandardCharsets.UTF_8);
        assertThrows(java.io.IOException.class, () -> SnapshotCodec.fromBytes(bytes));
    }
}
