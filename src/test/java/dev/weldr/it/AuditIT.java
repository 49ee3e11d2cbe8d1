package dev.weldr.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit log across real processes: changes made through the leader and through followers,
 * membership and leadership changes among them, then the leader killed with SIGKILL. Every
 * acknowledged change is in GET /audit on the survivors exactly once, naming the node that took
 * the call; a node restarted afterwards has the same log; each change was logged once, by the
 * leader that committed it.
 */
class AuditIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration ELECTION = Duration.ofSeconds(20);
    private static final String TOKEN = "audit-it-t0ken";
    private static final Map<String, String> PROPS = Map.of(
            "weldr.raft.election-timeout", "500ms",
            "weldr.raft.snapshot-interval", "1s",
            "weldr.ha.stop-drain", "100ms",
            "weldr.admin.token", TOKEN);

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final List<WeldrProcess> extra = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        extra.forEach(WeldrProcess::close);
    }

    private record Expected(String action, String target, String node) {
    }

    private final List<Expected> acknowledged = new ArrayList<>();

    private static HttpResponse<String> call(WeldrProcess via, String method, String path, String json) {
        return via.request(method, path, json, "Authorization", "Bearer " + TOKEN);
    }

    /** Makes a change through {@code via} and, once it is acknowledged, expects it in the audit log. */
    private void change(WeldrProcess via, int status, String method, String path, String json, String action, String target) {
        HttpResponse<String> r = call(via, method, path, json);
        assertEquals(status, r.statusCode(), method + " " + path + " through " + via.raftId() + ": " + r.body());
        acknowledged.add(new Expected(action, target, via.raftId()));
    }

    @Test
    void shouldKeepEveryAcknowledgedChangeOnceThroughAFailover() throws Exception {
        cluster = new TestCluster(dir, 3, PROPS).start();
        WeldrProcess leader = awaitLeader(cluster.nodes);
        WeldrProcess f1 = cluster.followers(leader).get(0);
        WeldrProcess f2 = cluster.followers(leader).get(1);

        change(leader, 201, "POST", "/servers", "{\"url\":\"http://127.0.0.1:10001\"}", "add-server", "default/127.0.0.1:10001");
        change(f1, 201, "POST", "/servers", "{\"url\":\"http://127.0.0.1:10002\"}", "add-server", "default/127.0.0.1:10002");
        change(f1, 201, "POST", "/pools", "{\"name\":\"audit\"}", "create-pool", "audit");
        change(leader, 200, "PUT", "/routes/audit", "{\"pathPrefix\":\"/audit\",\"pool\":\"audit\"}", "put-route", "audit");
        change(f2, 200, "PATCH", "/servers/127.0.0.1/10001", "{\"weight\":5}", "update-server", "default/127.0.0.1:10001");
        change(f1, 204, "DELETE", "/servers/127.0.0.1/10002", null, "remove-server", "default/127.0.0.1:10002");

        // Membership and leadership: recorded, then carried out, then acknowledged.
        change(f1, 204, "DELETE", "/cluster/peers/127.0.0.1/" + f2.raftPort, null, "remove-member", f2.raftId());
        change(leader, 200, "POST", "/cluster/peers", "{\"peer\":\"" + f2.raftId() + "\"}", "add-member", f2.raftId());
        WeldrProcess.await(ELECTION, () -> call(f2, "GET", "/cluster", null).body().contains("\"leader\":\"" + leader.raftId() + "\""),
                f2.raftId() + " to follow " + leader.raftId() + " again");
        change(f2, 200, "POST", "/cluster/leader", "{\"peer\":\"" + f1.raftId() + "\"}", "transfer-leadership", f1.raftId());
        assertEquals(f1, awaitLeader(cluster.nodes));

        WeldrProcess now = f1;
        change(now, 201, "POST", "/pools/audit/servers", "{\"url\":\"http://127.0.0.1:10003\"}", "add-server", "audit/127.0.0.1:10003");
        change(leader, 200, "PATCH", "/pools/audit", "{\"policy\":\"least-requests\"}", "update-pool", "audit");
        change(f2, 204, "DELETE", "/routes/audit", null, "delete-route", "audit");
        change(leader, 204, "DELETE", "/pools/audit/servers/127.0.0.1/10003", null, "remove-server", "audit/127.0.0.1:10003");
        change(now, 204, "DELETE", "/pools/audit", null, "delete-pool", "audit");
        // Refused changes are no changes: not in the log.
        assertEquals(404, call(f2, "DELETE", "/routes/audit", null).statusCode());

        now.kill();
        List<WeldrProcess> survivors = List.of(leader, f2);
        WeldrProcess next = awaitLeader(survivors);
        assertNotEquals(now, next);

        List<Expected> newestFirst = new ArrayList<>(acknowledged);
        java.util.Collections.reverse(newestFirst);
        JsonNode first = null;
        for (WeldrProcess n : survivors) {
            JsonNode entries = audit(n);
            assertEquals(newestFirst, expected(entries), n.raftId() + ": " + entries);
            Set<Long> ids = new HashSet<>();
            entries.forEach(e -> assertTrue(ids.add(e.get("id").asLong()), "ids unique: " + entries));
            entries.forEach(e -> assertEquals("admin", e.get("token").asText(), e.toString()));
            if (first == null) {
                first = entries;
            } else {
                assertEquals(first, entries, "every replica has the same records, times included");
            }
        }

        // The killed node, back: the same log, from its own log and snapshots and the leader's.
        WeldrProcess back = now.again("audit-back").start();
        extra.add(back);
        JsonNode expectedEntries = first;
        WeldrProcess.await(ELECTION, () -> expectedEntries.equals(auditOrNull(back)), back.raftId() + " to catch up the audit log");

        // One line per change, written by the leader that committed it: never again on a replay.
        String logs = leader.stdout() + f2.stdout() + now.stdout() + back.stdout();
        for (JsonNode e : first) {
            String line = "audit #" + e.get("id").asLong() + " " + e.get("action").asText() + " " + e.get("target").asText()
                    + " by token admin via " + e.get("node").asText() + ":";
            assertEquals(1, count(logs, line), line + " once in\n" + logs.lines().filter(l -> l.contains("audit #")).toList());
        }
    }

    private static List<Expected> expected(JsonNode entries) {
        List<Expected> out = new ArrayList<>();
        entries.forEach(e -> out.add(new Expected(e.get("action").asText(), e.get("target").asText(), e.get("node").asText())));
        return out;
    }

    private static JsonNode audit(WeldrProcess n) throws Exception {
        HttpResponse<String> r = call(n, "GET", "/audit?limit=500&consistent=true", null);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("entries");
    }

    private static JsonNode auditOrNull(WeldrProcess n) {
        try {
            HttpResponse<String> r = call(n, "GET", "/audit?limit=500", null);
            return r.statusCode() == 200 ? JSON.readTree(r.body()).get("entries") : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /** The one live node that reports itself leader, for nodes whose /cluster needs the token. */
    private static WeldrProcess awaitLeader(List<WeldrProcess> nodes) {
        return TestCluster.awaitLeader(nodes, ELECTION, n -> call(n, "GET", "/cluster", null).body());
    }
}
