package dev.weldr.raft;

import dev.weldr.pool.Certificate;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.TicketKey;
import dev.weldr.pool.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session-ticket keys as replicated state: in log entries and snapshots, newest first, at most three. */
class TicketKeyCodecTest {

    private static TicketKey key(long created) {
        return new TicketKey(created, "secret-" + created);
    }

    @Test
    void shouldRoundTripTheCommand() throws Exception {
        PoolCommand command = new PoolCommand.AddTicketKey(key(1_700_000_000_123L));
        assertEquals(command, CommandCodec.decode(ByteBuffer.wrap(CommandCodec.encode(command))));
    }

    @Test
    void shouldPutTheNewKeyFirstAndKeepTheNewestThree() {
        Topology t = Topology.EMPTY;
        for (long created = 1; created <= 5; created++) {
            t = t.apply(new PoolCommand.AddTicketKey(key(created))).topology();
            assertTrue(t.ticketKeys().size() <= Topology.MAX_TICKET_KEYS);
        }
        assertEquals(List.of(key(5), key(4), key(3)), t.ticketKeys());
        Topology poolChange = t.apply(new PoolCommand.CreatePool("api", PoolSettings.DEFAULTS)).topology();
        assertSame(t.ticketKeys(), poolChange.ticketKeys(), "a pool change keeps the keys list as it is");
    }

    @Test
    void shouldKeepTheKeysInSnapshots(@TempDir Path dir) throws Exception {
        Topology t = Topology.of(9, List.of(Pool.of(Pool.DEFAULT, PoolSettings.DEFAULTS, List.of())), List.of(), Map.of(),
                List.of(new Certificate("shop", "chain", "key")), List.of(key(3), key(2)));
        SnapshotCodec.write(t, dir);
        assertEquals(List.of(key(3), key(2)), SnapshotCodec.read(dir).ticketKeys());
        assertEquals(t, SnapshotCodec.read(dir));
    }

    @Test
    void shouldReadASnapshotWrittenBeforeTicketKeysWereReplicated() throws Exception {
        byte[] old = ("{\"format\":2,\"appliedIndex\":3,\"pools\":[{\"name\":\"default\",\"settings\":"
                + "{\"policy\":{\"kind\":\"ROUND_ROBIN\"}},\"servers\":[]}],\"routes\":[],\"nodes\":{},"
                + "\"certificates\":[{\"name\":\"shop\",\"chain\":\"c\",\"key\":\"k\"}]}").getBytes(StandardCharsets.UTF_8);
        Topology read = SnapshotCodec.fromBytes(old);
        assertEquals(1, read.certificates().size());
        assertTrue(read.ticketKeys().isEmpty());
    }

    @Test
    void shouldNeverPrintAKey() {
        Topology t = Topology.EMPTY.apply(new PoolCommand.AddTicketKey(key(7))).topology();
        assertFalse(t.toString().contains("secret"));
        assertFalse(new PoolCommand.AddTicketKey(key(7)).toString().contains("secret"));
    }
}
