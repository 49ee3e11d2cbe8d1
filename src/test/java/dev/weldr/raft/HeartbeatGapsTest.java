package dev.weldr.raft;

import com.alipay.sofa.jraft.entity.PeerId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which silences of a leader a follower counts as late: over half the election timeout, within one leader's term. */
class HeartbeatGapsTest {

    private static final String LEADER = "10.0.0.1:8688";
    private static final String OTHER = "10.0.0.2:8688";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private long now = TimeUnit.HOURS.toNanos(1);
    private final HeartbeatGaps gaps = new HeartbeatGaps(Duration.ofMillis(500),
            () -> List.of(PeerId.parsePeer(LEADER), PeerId.parsePeer(OTHER)), registry, () -> now);

    private void after(long millis, String leader, long term) {
        now += TimeUnit.MILLISECONDS.toNanos(millis);
        gaps.arrived(leader, term);
    }

    private double late() {
        return registry.get("weldr.raft.heartbeat.late").counter().count();
    }

    private long measured() {
        return registry.get("weldr.raft.heartbeat.gap").timer().count();
    }

    @Test
    void shouldCountOnlyGapsOverHalfTheTimeout() {
        after(0, LEADER, 3);
        for (int i = 0; i < 20; i++) {
            after(50, LEADER, 3); // a heartbeat every tenth of the timeout
        }
        after(250, LEADER, 3); // exactly half: not late
        assertEquals(0, late());
        after(251, LEADER, 3);
        assertEquals(1, late());
        after(480, LEADER, 3);
        assertEquals(2, late(), "each late gap counts, whether or not a line is written for it");
        assertEquals(23, measured());
        assertEquals(480, registry.get("weldr.raft.heartbeat.gap").timer().max(TimeUnit.MILLISECONDS), 0.001);
    }

    @Test
    void shouldNotCountTheSilenceOfAnElection() {
        after(0, LEADER, 3);
        after(50, LEADER, 3);
        after(1_200, OTHER, 4); // a new leader after an election
        after(900, OTHER, 5); // the same node elected again
        after(40, OTHER, 5);
        assertEquals(0, late());
        assertEquals(2, measured());
    }

    @Test
    void shouldIgnoreSendersThatAreNotMembers() {
        after(0, LEADER, 3);
        after(50, "10.9.9.9:8688", 3); // not a member: neither a leader to follow nor a reset
        after(50, LEADER, 3);
        after(50, "10.9.9.9:8688", 4);
        after(400, LEADER, 3);
        assertEquals(1, late(), "the member's 450 ms since its last request, the stranger's requests between ignored");
    }
}
