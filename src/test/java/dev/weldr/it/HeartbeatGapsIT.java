package dev.weldr.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower whose leader stalls (SIGSTOP, then SIGCONT) for more than half the election timeout
 * but less than all of it: no election, but the follower counts the gap and names the key to raise.
 */
class HeartbeatGapsIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String LINE = "consider a longer weldr.raft.election-timeout";

    @TempDir
    Path dir;
    private TestCluster cluster;
    private long stopped;

    @AfterEach
    void tearDown() throws Exception {
        if (stopped != 0) {
            signal("-CONT", stopped);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldCountAndReportALeaderSilentForOverHalfTheTimeout() throws Exception {
        // 2 s: a stall of 1.4 s is over half of it and, with the heartbeat before it, under all of it.
        cluster = new TestCluster(dir, 2, Map.of("weldr.raft.election-timeout", "2s"));
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(WAIT);
        WeldrProcess follower = cluster.followers(leader).get(0);
        WeldrProcess.await(WAIT, () -> metric(follower, "weldr_raft_heartbeat_gap_seconds_count") > 20,
                "the follower to measure the leader's heartbeats");
        // A start on a loaded machine may have stalled already: count from here.
        double before = metric(follower, "weldr_raft_heartbeat_late_total");
        long lines = count(follower);

        // The stall is one command, stopped and continued by the same shell, so the leader runs
        // again even if this JVM dies meanwhile; the test waits for that command to end.
        stopped = leader.pid();
        Process stall = new ProcessBuilder("sh", "-c", "kill -STOP " + stopped + " && sleep 1.4; kill -CONT " + stopped)
                .inheritIO().start();
        assertEquals(0, stall.waitFor(), "the leader stopped for 1.4 s and continued");
        stopped = 0;

        WeldrProcess.await(WAIT, () -> metric(follower, "weldr_raft_heartbeat_late_total") >= before + 1,
                "the follower to count the leader's silence as late");
        assertTrue(metric(follower, "weldr_raft_heartbeat_gap_seconds_max") >= 1.4,
                "the longest gap measured: " + metric(follower, "weldr_raft_heartbeat_gap_seconds_max"));
        if (lines == 0) {
            // The first late gap of a node's life is always reported; later ones at most every ten minutes.
            WeldrProcess.await(WAIT, () -> count(follower) == 1, "the follower's warning naming the key");
            String line = follower.stdout().lines().filter(l -> l.contains(LINE)).findFirst().orElseThrow();
            assertTrue(line.contains("the Raft leader " + leader.raftId() + " was silent for"), line);
            assertTrue(line.contains("weldr.raft.election-timeout=2000ms"), line);
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        int code = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start().waitFor();
        assertEquals(0, code, "kill " + signal + " " + pid);
    }

    private static double metric(WeldrProcess node, String name) {
        String body = node.get("/q/metrics").body();
        return body.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in /q/metrics"));
    }

    private static long count(WeldrProcess node) {
        return node.stdout().lines().filter(l -> l.contains(LINE)).count();
    }
}
