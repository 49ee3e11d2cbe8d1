package dev.weldr.cluster;

import dev.weldr.events.EventLog;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each change of leader or term this node sees is an event; the same leader told again is not. */
class LeadershipEventsTest {

    @Test
    void shouldRecordEachNewLeaderAndEachLossOfOne() {
        Leadership leadership = new Leadership();
        leadership.events = new EventLog();

        leadership.following("10.0.0.1:8688", 3);
        leadership.following("10.0.0.1:8688", 3);
        leadership.leaderless();
        leadership.becameLeader("10.0.0.2:8688", 4);

        List<EventLog.Event> events = leadership.events.newest(10);
        assertEquals(List.of(EventLog.Kind.LEADER, EventLog.Kind.NO_LEADER, EventLog.Kind.LEADER),
                events.stream().map(EventLog.Event::kind).toList(), events.toString());
        assertEquals("10.0.0.2:8688", events.get(0).node());
        assertEquals("10.0.0.2:8688 leads in term 4 (this node)", events.get(0).detail());
        assertEquals("no leader in term 3 (was 10.0.0.1:8688)", events.get(1).detail());
        assertEquals("10.0.0.1:8688 leads in term 3", events.get(2).detail());
    }
}
