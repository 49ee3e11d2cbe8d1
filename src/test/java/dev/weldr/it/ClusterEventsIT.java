package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster's events in {@code GET /events} of three real processes whose {@code ip} and
 * {@code arping} are stand-ins on their PATH (no address is touched): the election each node saw,
 * and once leadership is handed over, the new leader in every node's events, the virtual IP
 * released by the old leader and taken by the new one.
 */
class ClusterEventsIT {

    private static final String VIP = "10.77.0.101/24";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private TestCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldRecordElectionsAndTheVirtualIpOnEveryNode() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : List.of("ip", "arping")) {
            Files.writeString(bin.resolve(tool), "#!/bin/sh\nexit 0\n");
            assertTrue(bin.resolve(tool).toFile().setExecutable(true));
        }
        cluster = new TestCluster(dir, 3, Map.of("weldr.raft.election-timeout", "1s",
                "weldr.vip.address", VIP, "weldr.vip.interface", "lab0"));
        cluster.nodes.forEach(n -> n.env("PATH", bin + ":" + System.getenv("PATH")));
        cluster.start();
        WeldrProcess leader = cluster.awaitLeader(Duration.ofSeconds(30));
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(Duration.ofSeconds(30), () -> has(n, "leader", leader.raftId()),
                    n.raftId() + " to record " + leader.raftId() + " as the leader");
        }
        WeldrProcess.await(Duration.ofSeconds(30), () -> has(leader, "vip-taken", leader.raftId()), "the leader to record the VIP taken");

        WeldrProcess next = cluster.followers(leader).get(0);
        // A hand-over asked while the cluster settles is answered 503 "retry": asked again until done.
        WeldrProcess.await(Duration.ofSeconds(60), () -> {
            HttpResponse<String> r = next.post("/cluster/leader", "{\"peer\":\"" + next.raftId() + "\"}");
            assertTrue(r.statusCode() == 200 || r.statusCode() == 503, r.statusCode() + " " + r.body());
            return r.statusCode() == 200;
        }, "the leadership to move to " + next.raftId());
        for (WeldrProcess n : cluster.nodes) {
            WeldrProcess.await(Duration.ofSeconds(30), () -> has(n, "leader", next.raftId()),
                    n.raftId() + " to record " + next.raftId() + " as the new leader");
        }
        WeldrProcess.await(Duration.ofSeconds(30), () -> has(leader, "vip-released", leader.raftId()),
                "the old leader to record the VIP released");
        WeldrProcess.await(Duration.ofSeconds(30), () -> has(next, "vip-taken", next.raftId()), "the new leader to record the VIP taken");

        List<JsonNode> events = events(next);
        JsonNode taken = events.stream().filter(e -> e.path("kind").asText().equals("vip-taken")).findFirst().orElseThrow();
        assertTrue(taken.path("detail").asText().contains(VIP), taken.toString());
        JsonNode led = events.stream().filter(e -> e.path("kind").asText().equals("leader")).findFirst().orElseThrow();
        assertTrue(led.path("detail").asText().contains("(this node)"), led.toString());
        // Newest first: the new leader's own election comes after whatever it saw before.
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i - 1).path("id").asLong() > events.get(i).path("id").asLong(), events.toString());
        }
    }

    private static boolean has(WeldrProcess node, String kind, String about) {
        return events(node).stream().anyMatch(e -> e.path("kind").asText().equals(kind) && e.path("node").asText().equals(about));
    }

    private static List<JsonNode> events(WeldrProcess node) {
        HttpResponse<String> r = node.get("/events?limit=500");
        assertEquals(200, r.statusCode(), r.body());
        try {
            List<JsonNode> list = new ArrayList<>();
            JSON.readTree(r.body()).path("events").forEach(list::add);
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
