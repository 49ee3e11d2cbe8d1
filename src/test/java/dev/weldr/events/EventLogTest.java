package dev.weldr.events;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ring: newest first, ids without gaps, never more than its capacity however many events come. */
class EventLogTest {

    @Test
    void shouldKeepTheNewestEventsUpToItsCapacity() {
        EventLog log = new EventLog();
        assertEquals(List.of(), log.newest(10));
        int total = EventLog.CAPACITY * 2 + 7;
        for (int i = 0; i < total; i++) {
            log.server(i % 2 == 0 ? EventLog.Kind.DOWN : EventLog.Kind.UP, "default", "127.0.0.1:" + i, "check " + i, 0);
        }
        List<EventLog.Event> all = log.newest(Integer.MAX_VALUE);
        assertEquals(EventLog.CAPACITY, all.size());
        assertEquals(total - 1, all.get(0).id());
        assertEquals("127.0.0.1:" + (total - 1), all.get(0).server());
        assertEquals(total - EventLog.CAPACITY, all.get(all.size() - 1).id());
        for (int i = 1; i < all.size(); i++) {
            assertEquals(all.get(i - 1).id() - 1, all.get(i).id(), "newest first, none missing");
        }
        assertEquals(all.subList(0, 3), log.newest(3));
    }

    @Test
    void shouldKeepWhatAClusterEventNames() {
        EventLog log = new EventLog();
        log.node(EventLog.Kind.VIP_TAKEN, "127.0.0.1:8688", "virtual IP 10.0.0.5/32 taken on eth0");
        EventLog.Event e = log.newest(1).get(0);
        assertEquals(EventLog.Kind.VIP_TAKEN, e.kind());
        assertEquals("vip-taken", e.kind().wire());
        assertEquals("127.0.0.1:8688", e.node());
        assertEquals(null, e.pool());
        assertEquals(0, e.untilMillis());
    }
}
