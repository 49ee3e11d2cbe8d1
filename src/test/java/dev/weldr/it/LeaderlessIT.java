package dev.weldr.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node that lost its quorum says so: a gauge that grows, one line when it lasts, one when a leader is back. */
class LeaderlessIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Ten election timeouts of 300 ms. */
    private static final double THRESHOLD_SECONDS = 3.0;
    private static final String LOST = "no Raft leader known for";
    private static final String BACK = "known again after";

    @TempDir
    Path dir;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void shouldReportALeaderWhoLostItsQuorumOnceAndItsReturnOnce() {
        TestCluster cluster = new TestCluster(dir, 2, Map.of("weldr.raft.election-timeout", "300ms", "weldr.ha.stop-drain", "100ms"));
        closing.add(cluster);
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(WAIT);
        WeldrProcess follower = cluster.followers(leader).get(0);
        for (WeldrProcess node : cluster.nodes) {
            WeldrProcess.await(WAIT, () -> leaderless(node) == 0.0, node.raftId() + " to know a leader");
        }

        // A slow start of one node may already have been reported (and its end): count from here.
        long lost = count(leader, LOST);
        long back = count(leader, BACK);

        // Two members: with the other one gone, no majority is left.
        follower.kill();
        WeldrProcess.await(WAIT, () -> count(leader, LOST) == lost + 1, "the line saying the leader is lost");
        assertTrue(leaderless(leader) >= THRESHOLD_SECONDS, "the gauge when the line was written: " + leaderless(leader));
        WeldrProcess.await(WAIT, () -> leaderless(leader) >= 2 * THRESHOLD_SECONDS, "the gauge to reach twice the threshold");
        assertEquals(lost + 1, count(leader, LOST), leader.stdout());
        assertEquals(back, count(leader, BACK), leader.stdout());
        assertTrue(leader.alive());

        WeldrProcess again = follower.again("node-again");
        closing.add(again);
        again.start();
        WeldrProcess.await(WAIT, () -> count(leader, BACK) == back + 1, "the line saying a leader is known again");
        WeldrProcess.await(WAIT, () -> leaderless(leader) == 0.0, "the gauge to drop to 0");
        assertEquals(lost + 1, count(leader, LOST), leader.stdout());
        assertEquals(back + 1, count(leader, BACK), leader.stdout());
    }

    /** {@code weldr_raft_leaderless_seconds} as the node's {@code /q/metrics} shows it. */
    private static double leaderless(WeldrProcess node) {
        String body = node.get("/q/metrics").body();
        return body.lines().filter(l -> l.startsWith("weldr_raft_leaderless_seconds "))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no weldr_raft_leaderless_seconds in " + body));
    }

    private static long count(WeldrProcess node, String text) {
        return node.stdout().lines().filter(l -> l.contains(text)).count();
    }
}
