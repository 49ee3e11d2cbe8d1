package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A follower's warm-up (weldr.ha.warm-up): synthetic requests through its own engine that no
 * backend, no counter and no metric ever sees, and that stop when the node takes over.
 */
class WarmStandbyIT {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String HEALTH = "/health-check";
    private static final String STARTED = "warm standby: this node follows the leader";
    private static final String WARM = "this node would take over warm";
    private static final Pattern STOPPED = Pattern.compile("warm standby: stopped, this node is leader \\((\\d+) synthetic requests sent\\)");

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    @RegisterExtension
    final Backends backends = new Backends();
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void shouldWarmFollowersWithoutReachingABackendOrAnyCounterAndStopOnTakingOver() throws IOException {
        AtomicInteger seen = new AtomicInteger();
        // Every node's active health checks reach the backend too, on their own path: not counted.
        int backend = backends.start("counted", r -> {
            if (!r.path().equals(HEALTH)) {
                seen.incrementAndGet();
            }
        });
        // The 10,000 requests of the warm mark in some 10 s; a higher rate on two followers starves
        // three JVMs on two cores enough to cause elections the test is not about.
        TestCluster cluster = new TestCluster(dir, 3, Map.of("weldr.raft.election-timeout", "1s", "weldr.ha.warm-up", "1000",
                "weldr.health-check.path", HEALTH));
        closing.add(cluster);
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(WAIT);
        long term = JSON.readTree(leader.get("/cluster").body()).get("term").asLong();
        String leading = "is leader for term " + term;
        WeldrProcess.await(WAIT, () -> leader.output().contains(leading), leader.raftId() + " to log " + leading);
        assertEquals(201, leader.post("/servers", "{\"url\":\"http://127.0.0.1:" + backend + "\"}").statusCode());
        List<WeldrProcess> followers = cluster.followers(leader);
        for (WeldrProcess f : followers) {
            WeldrProcess.await(WAIT, () -> f.output().contains(WARM), f.raftId() + " to have sent its warm-up");
            WeldrProcess.await(WAIT, () -> f.get("/servers").body().contains("127.0.0.1:" + backend), f.raftId() + " to have the server");
        }
        JsonNode now = JSON.readTree(leader.get("/cluster").body());
        assertTrue(now.get("term").asLong() == term && leader.raftId().equals(now.get("leader").asText()),
                "leadership changed while the followers warmed up (the machine too loaded?), so whether a leader warms up"
                        + " cannot be told: term " + term + " led by " + leader.raftId() + ", now " + now);
        // A node may have followed, and warmed up, in an earlier term: what counts is since it leads.
        String sinceLeading = leader.output().substring(leader.output().indexOf(leading));
        assertFalse(sinceLeading.contains(STARTED), "the leader warms up: " + sinceLeading);

        for (int i = 0; i < 3; i++) {
            assertEquals(200, leader.proxyGet("/real").statusCode());
        }
        assertEquals(3, seen.get(), "the backend saw requests that were not the test's own");
        for (WeldrProcess f : followers) {
            assertEquals(totals(0), JSON.readTree(f.get("/stats").body()), f.raftId() + " counted its warm-up");
            JsonNode detail = JSON.readTree(f.get("/stats/detail").body());
            assertEquals(1, detail.size(), detail.toString());
            JsonNode server = detail.get(0);
            assertEquals(0, server.get("success").asLong() + server.get("failed").asLong(), detail.toString());
            server.get("latency").get("counts").forEach(c -> assertEquals(0, c.asLong(), detail.toString()));
            String metrics = f.get("/q/metrics").body();
            assertFalse(metrics.contains("weldr_requests_total{"), f.raftId() + " has request counters: " + metrics);
            assertTrue(metrics.contains("weldr_request_duration_seconds_count 0.0") || !metrics.contains("weldr_request_duration_seconds_count"),
                    f.raftId() + " timed its warm-up");
        }

        leader.kill();
        WeldrProcess next = cluster.awaitLeader(WAIT);
        Matcher[] stopped = new Matcher[1];
        WeldrProcess.await(WAIT, () -> (stopped[0] = STOPPED.matcher(next.output())).find(), next.raftId() + " to stop its warm-up");
        assertTrue(Long.parseLong(stopped[0].group(1)) >= 10_000, stopped[0].group());
        assertEquals(200, next.proxyGet("/after").statusCode());
        assertEquals(4, seen.get(), "the backend saw requests that were not the test's own");
        assertEquals(totals(1), JSON.readTree(next.get("/stats").body()));
        // The other follower now follows the new leader and goes on warming up: it never took over.
        WeldrProcess other = cluster.followers(next).get(0);
        assertFalse(STOPPED.matcher(other.output()).find(), other.output());
    }

    /** {@code GET /stats} after {@code n} requests answered by the backend. */
    private static JsonNode totals(int n) throws IOException {
        return JSON.readTree("{\"client\":{\"success\":" + n + ",\"failed\":0},\"server\":{\"success\":" + n + ",\"failed\":0}}");
    }

    @Test
    void shouldNotWarmUpALeaderThatHandsOverOnSigterm() throws IOException {
        // The hand-over makes the stopping leader a follower for its drain: it must not start a warm-up then.
        TestCluster cluster = new TestCluster(dir, 3, Map.of("weldr.raft.election-timeout", "1s", "weldr.ha.warm-up", "1000",
                "weldr.ha.stop-drain", "2s"));
        closing.add(cluster);
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(WAIT);
        long term = JSON.readTree(leader.get("/cluster").body()).get("term").asLong();
        String leading = "is leader for term " + term;
        WeldrProcess.await(WAIT, () -> leader.output().contains(leading), leader.raftId() + " to log " + leading);
        leader.stop();
        String sinceLeading = leader.output().substring(leader.output().indexOf(leading));
        assertTrue(sinceLeading.contains("leadership handed to"), "the leader did not hand over: " + sinceLeading);
        assertFalse(sinceLeading.contains(STARTED), "the stopping leader warms up: " + sinceLeading);
    }

    @Test
    void shouldNotWarmUpWhenTurnedOff() {
        int backend = backends.start("counted");
        TestCluster cluster = new TestCluster(dir, 3, Map.of("weldr.raft.election-timeout", "1s", "weldr.ha.warm-up", "0"));
        closing.add(cluster);
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(WAIT);
        assertEquals(201, leader.post("/servers", "{\"url\":\"http://127.0.0.1:" + backend + "\"}").statusCode());
        for (WeldrProcess f : cluster.followers(leader)) {
            // A follower that applied the write has known its leader, and would have started, for a while.
            WeldrProcess.await(WAIT, () -> f.get("/servers").body().contains("127.0.0.1:" + backend), f.raftId() + " to have the server");
        }
        assertEquals(200, leader.proxyGet("/").statusCode());
        for (WeldrProcess n : cluster.nodes) {
            assertFalse(n.output().contains("warm standby"), n.output());
        }
    }
}
