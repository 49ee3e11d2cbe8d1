package dev.weldr.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Three (and four) weldr processes on loopback: replication, fail-over, membership, leadership. */
class ClusterIT {

    private static final Duration ELECTION = Duration.ofSeconds(20);
    private static final Map<String, String> FAST = Map.of(
            "weldr.raft.election-timeout", "500ms",
            "weldr.raft.snapshot-interval", "1s",
            "weldr.ha.stop-drain", "100ms");

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

    private TestCluster cluster(int n, Map<String, String> extra) {
        TestCluster c = new TestCluster(dir, n, extra);
        closing.add(c);
        return c.start();
    }

    private String addServer(WeldrProcess via) {
        int port = backends.start("b" + System.nanoTime());
        HttpResponse<String> r = via.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        return "127.0.0.1:" + port;
    }

    private static void awaitServers(WeldrProcess node, List<String> ids) {
        WeldrProcess.await(Duration.ofSeconds(20), () -> {
            String body = node.get("/servers").body();
            return ids.stream().allMatch(id -> body.contains("\"id\":\"" + id + "\""));
        }, node.raftId() + " to list " + ids);
    }

    /** Waits until each of these nodes has a snapshot newer than the index it is mapped to. */
    private static void awaitNewerSnapshots(Map<WeldrProcess, Long> before) {
        before.forEach((n, index) -> WeldrProcess.await(Duration.ofSeconds(20), () -> n.snapshotIndex() > index,
                n.raftId() + " to take a snapshot after index " + index));
    }

    @Test
    void shouldElectOneLeaderAndApplyAWriteSentToAFollowerEverywhere() {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        WeldrProcess follower = c.followers(leader).get(0);

        int port = backends.start("via-follower");
        HttpResponse<String> r = follower.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals(leader.raftId(), r.headers().firstValue("X-Weldr-Leader").orElse(""));

        // A linearizable read on any node sees the acknowledged write at once.
        for (WeldrProcess n : c.nodes) {
            String body = n.get("/servers?consistent=true").body();
            assertTrue(body.contains("127.0.0.1:" + port), n.raftId() + ": " + body);
        }
        // Every node proxies to the replicated pool.
        for (WeldrProcess n : c.nodes) {
            assertEquals("via-follower", n.proxyGet("/").body());
        }
        long ready = c.nodes.stream().filter(WeldrProcess::ready).count();
        assertEquals(1, ready, "in active-passive mode only the leader is ready");
        assertTrue(leader.ready());
    }

    @Test
    void shouldFailOverOnKillAndLoseNoAcknowledgedWriteThenCatchUpFromASnapshot() {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            acknowledged.add(addServer(leader));
        }
        leader.kill();

        WeldrProcess next = c.awaitLeader(ELECTION);
        assertNotEquals(leader, next);
        WeldrProcess.await(Duration.ofSeconds(10), next::ready, "the new leader to be ready");
        for (WeldrProcess n : c.followers(leader)) {
            awaitServers(n, acknowledged);
        }
        // Writes go on with two of three nodes.
        List<WeldrProcess> survivors = c.followers(leader);
        for (int i = 0; i < 3; i++) {
            acknowledged.add(addServer(survivors.get(i % 2)));
        }
        // Then snapshots truncate the log the killed node would need. JRaft drops a log prefix only up
        // to the snapshot before its newest one, and takes no snapshot without a new entry: so twice,
        // a write and a snapshot newer than the one from before it.
        for (int i = 0; i < 2; i++) {
            Map<WeldrProcess, Long> before = new HashMap<>();
            survivors.forEach(n -> before.put(n, n.snapshotIndex()));
            acknowledged.add(addServer(next));
            awaitNewerSnapshots(before);
        }

        WeldrProcess back = leader.again("restarted").start();
        c.nodes.set(c.nodes.indexOf(leader), back);
        awaitServers(back, acknowledged);
        assertTrue(back.stdout().contains("pool restored from snapshot"), "caught up through a snapshot: " + back.stdout());
    }

    @Test
    void shouldAddAFourthNodeThatJoinsAndRemoveAnother() {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        String before = addServer(leader);

        WeldrProcess via = c.followers(leader).get(0);
        WeldrProcess fourth = WeldrProcess.create("joiner", dir.resolve("joiner"),
                Map.of("weldr.raft.join", via.admin(), "weldr.raft.election-timeout", "500ms"));
        closing.add(fourth);
        fourth.start();
        WeldrProcess.await(Duration.ofSeconds(30), () -> leader.get("/cluster").body().contains(fourth.raftId()),
                "the fourth node to be a member");
        awaitServers(fourth, List.of(before));
        String after = addServer(fourth);
        awaitServers(fourth, List.of(before, after));
        assertFalse(fourth.ready(), "a follower is not ready in active-passive mode");

        WeldrProcess removed = c.followers(leader).get(1);
        HttpResponse<String> r = fourth.delete("/cluster/peers/127.0.0.1/" + removed.raftPort);
        assertEquals(204, r.statusCode(), r.body());
        String members = leader.get("/cluster").body();
        assertFalse(members.contains(removed.raftId()), members);
        assertTrue(members.contains(fourth.raftId()), members);
        assertEquals(404, leader.delete("/cluster/peers/127.0.0.1/" + removed.raftPort).statusCode());
        assertEquals(409, leader.post("/cluster/peers", "{\"peer\":\"" + fourth.raftId() + "\"}").statusCode());

        // Restarted later, with the same settings, it is simply a member: the node it joined
        // through may be down (or gone from the cluster) by then.
        via.stop();
        fourth.stop();
        WeldrProcess back = fourth.again("joiner-restarted").start();
        closing.add(back);
        String later = addServer(leader);
        awaitServers(back, List.of(before, after, later));
    }

    @Test
    void shouldRefuseToMixTwoClusters() throws Exception {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        String kept = addServer(leader);

        // A node that bootstrapped a cluster of its own cannot be added: its Raft group differs.
        WeldrProcess loner = WeldrProcess.create("loner", dir.resolve("loner"), Map.of()).start();
        closing.add(loner);
        WeldrProcess.await(Duration.ofSeconds(20), loner::ready, "the lone node to lead itself");
        HttpResponse<String> r = leader.post("/cluster/peers", "{\"peer\":\"" + loner.raftId() + "\"}");
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains("peer_not_caught_up"), r.body());
        assertFalse(leader.get("/cluster").body().contains(loner.raftId()));
        awaitServers(leader, List.of(kept));

        // And the same data directory told to join the cluster is refused at start-up, in one line.
        loner.stop();
        WeldrProcess rejoin = WeldrProcess.create("loner-join", dir.resolve("loner"), Map.of("weldr.raft.join", leader.admin()));
        closing.add(rejoin);
        rejoin.launch();
        assertNotEquals(0, rejoin.awaitExit(Duration.ofSeconds(60)));
        assertTrue(rejoin.stderr().contains("weldr.raft.join"), rejoin.stderr());
    }

    @Test
    void shouldTransferLeadershipAndRunTheRoleCommandsAndMoveTheVip() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : List.of("ip", "arping")) {
            Path script = bin.resolve(tool);
            Files.writeString(script, "#!/bin/sh\necho \"" + tool + " $*\" >> \"$WELDR_FAKE_LOG\"\n");
            assertTrue(script.toFile().setExecutable(true));
        }
        Map<String, String> props = new java.util.HashMap<>(FAST);
        props.put("weldr.ha.on-leader", "echo \"leader $WELDR_SELF $WELDR_LEADER\" >> \"$WELDR_FAKE_LOG\"");
        props.put("weldr.ha.on-follower", "echo \"follower $WELDR_SELF $WELDR_LEADER\" >> \"$WELDR_FAKE_LOG\"");
        props.put("weldr.vip.address", "10.77.0.100/24");
        props.put("weldr.vip.interface", "lab0");
        TestCluster c = new TestCluster(dir, 3, props);
        closing.add(c);
        for (int i = 0; i < 3; i++) {
            c.nodes.get(i).env("PATH", bin + ":" + System.getenv("PATH"))
                    .env("WELDR_FAKE_LOG", dir.resolve("fake" + i + ".log").toString());
        }
        c.start();
        WeldrProcess leader = c.awaitLeader(ELECTION);
        int li = c.nodes.indexOf(leader);
        Path leaderLog = dir.resolve("fake" + li + ".log");
        WeldrProcess.await(Duration.ofSeconds(10), () -> read(leaderLog).contains("arping -U"), "the leader to announce the VIP");
        String log = read(leaderLog);
        assertTrue(log.contains("ip addr add 10.77.0.100/24 dev lab0"), log);
        assertTrue(log.contains("leader " + leader.raftId() + " " + leader.raftId()), log);

        WeldrProcess target = c.followers(leader).get(0);
        Path targetLog = dir.resolve("fake" + c.nodes.indexOf(target) + ".log");
        WeldrProcess.await(Duration.ofSeconds(10), () -> read(targetLog).contains("follower " + target.raftId()), "the follower command");
        assertFalse(read(targetLog).contains("ip addr add"), "a follower never takes the VIP");

        // Every node removes a VIP left over by an earlier process when it starts: count the removals from here.
        String del = "ip addr del 10.77.0.100/24 dev lab0";
        long delsBefore = read(leaderLog).lines().filter(l -> l.equals(del)).count();
        assertTrue(delsBefore >= 1, "a starting node clears a leftover VIP: " + read(leaderLog));
        HttpResponse<String> r = target.post("/cluster/leader", "{\"peer\":\"" + target.raftId() + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(target, c.awaitLeader(ELECTION));
        WeldrProcess.await(Duration.ofSeconds(10), () -> read(leaderLog).lines().filter(l -> l.equals(del)).count() > delsBefore,
                "the old leader to release the VIP");
        WeldrProcess.await(Duration.ofSeconds(10), () -> read(targetLog).contains("ip addr add 10.77.0.100/24 dev lab0"),
                "the new leader to take the VIP");
        assertTrue(read(leaderLog).contains("follower " + leader.raftId() + " "), read(leaderLog));
        WeldrProcess.await(Duration.ofSeconds(10), target::ready, "readiness to follow leadership");
        assertFalse(leader.ready());
        assertEquals(404, target.post("/cluster/leader", "{\"peer\":\"127.0.0.1:1\"}").statusCode());
    }

    @Test
    void shouldHandOverLeadershipBeforeAGracefulStop() {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        String server = addServer(leader);
        leader.stop();
        assertTrue(leader.stdout().contains("leadership handed to"), leader.stdout());
        WeldrProcess next = c.awaitLeader(ELECTION);
        assertNotEquals(leader, next);
        WeldrProcess.await(Duration.ofSeconds(10), next::ready, "the new leader to be ready");
        awaitServers(next, List.of(server));
        assertEquals(201, next.post("/servers", "{\"url\":\"http://127.0.0.1:9\"}").statusCode());
    }

    @Test
    void shouldReportEveryNodeReadyInActiveActiveMode() {
        Map<String, String> props = new java.util.HashMap<>(FAST);
        props.put("weldr.ha.mode", "active-active");
        TestCluster c = cluster(3, props);
        c.awaitLeader(ELECTION);
        for (WeldrProcess n : c.nodes) {
            WeldrProcess.await(Duration.ofSeconds(10), n::ready, n.raftId() + " to be ready");
        }
    }

    @Test
    void shouldAnswer503QuicklyWithoutAQuorumAndKeepProxying() {
        TestCluster c = cluster(3, FAST);
        WeldrProcess leader = c.awaitLeader(ELECTION);
        String server = addServer(leader);
        WeldrProcess survivor = c.followers(leader).get(0);
        awaitServers(survivor, List.of(server));
        leader.kill();
        c.followers(leader).get(1).kill();

        long start = System.nanoTime();
        HttpResponse<String> r = survivor.post("/servers", "{\"url\":\"http://127.0.0.1:9\"}");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
        assertTrue(r.body().contains("\"error\""), r.body());
        // election timeout + 1 s, and room for a loaded machine
        assertTrue(ms < 4000, "answered after " + ms + " ms");
        assertEquals(200, survivor.proxyGet("/").statusCode(), "the data plane keeps the last pool");
        HttpResponse<String> read = survivor.get("/servers?consistent=true");
        assertEquals(503, read.statusCode(), "a linearizable read needs a quorum: " + read.body());
        assertTrue(read.body().contains("\"error\""), read.body());
        assertEquals(200, survivor.get("/servers").statusCode(), "a plain read answers from what the node has");
    }

    private static final String TOKEN = "f0llower-t0ken";

    private static HttpResponse<String> call(WeldrProcess via, String method, String path, String json) {
        return via.request(method, path, json, "Authorization", "Bearer " + TOKEN);
    }

    private static void expect(int status, HttpResponse<String> r, String what) {
        assertEquals(status, r.statusCode(), what + ": " + r.body());
    }

    @Test
    void shouldForwardEveryChangeThroughAFollowerWithItsNameIntactAndTheToken() {
        TestCluster c = cluster(3, Map.of("weldr.admin.token", TOKEN));
        WeldrProcess leader = awaitLeaderWithToken(c);
        WeldrProcess follower = c.followers(leader).get(0);
        WeldrProcess other = c.followers(leader).get(1);
        int one = backends.start("one");
        int two = backends.start("two");

        HttpResponse<String> r = call(follower, "POST", "/servers", "{\"url\":\"http://127.0.0.1:" + one + "\"}");
        expect(201, r, "POST /servers");
        assertEquals(leader.raftId(), r.headers().firstValue("X-Weldr-Leader").orElse(""));
        expect(200, call(follower, "PATCH", "/servers/127.0.0.1/" + one, "{\"weight\":3}"), "PATCH /servers/..");
        expect(201, call(follower, "POST", "/pools", "{\"name\":\"api\"}"), "POST /pools");
        expect(200, call(follower, "PATCH", "/pools/api", "{\"policy\":\"least-requests\"}"), "PATCH /pools/api");
        expect(201, call(follower, "POST", "/pools/api/servers", "{\"url\":\"http://127.0.0.1:" + two + "\"}"),
                "POST /pools/api/servers");
        expect(200, call(follower, "PATCH", "/pools/api/servers/127.0.0.1/" + two, "{\"draining\":true}"),
                "PATCH /pools/api/servers/..");
        expect(200, call(follower, "PUT", "/routes/api", "{\"pathPrefix\":\"/api\",\"pool\":\"api\"}"), "PUT /routes/api");
        String pools = call(leader, "GET", "/pools/api", null).body();
        assertTrue(pools.contains("least-requests"), pools);
        String servers = call(leader, "GET", "/pools/api/servers/127.0.0.1/" + two, null).body();
        assertTrue(servers.contains("\"draining\""), servers);
        assertTrue(call(leader, "GET", "/servers/127.0.0.1/" + one, null).body().contains("\"weight\":3"));

        // A name holding '/', '?', '#' or '{' names nothing on the leader either: the same answer
        // through the follower as from the leader itself, and nothing else is touched.
        for (String[] attack : new String[][] {
                {"DELETE", "/routes/..%2Fpools%2Fapi"}, {"DELETE", "/routes/api%3Fx"}, {"DELETE", "/routes/api%23x"},
                {"DELETE", "/routes/%7Bx%7D"}, {"PUT", "/routes/%7Bx%7D"}, {"DELETE", "/pools/%7Bx%7D"},
                {"PATCH", "/pools/..%2Froutes%2Fapi"}, {"DELETE", "/pools/api%2Fservers%2F127.0.0.1%2F" + two},
                {"DELETE", "/servers/..%2Froutes%2Fapi%3Fx=/1"}, {"PATCH", "/servers/..%2Fpools%2Fapi%3F/1"},
                {"DELETE", "/pools/api/servers/127.0.0.1%2F..%2F..%2F..%2Froutes%2Fapi%3F/" + two},
                {"POST", "/pools/%7Bx%7D/servers"}, {"DELETE", "/cluster/peers/..%2F..%2Fservers%2F127.0.0.1/" + one}}) {
            String json = attack[0].equals("DELETE") ? null
                    : attack[0].equals("PUT") ? "{\"pool\":\"api\"}"
                    : attack[0].equals("POST") ? "{\"url\":\"http://127.0.0.1:9\"}" : "{\"weight\":2}";
            HttpResponse<String> viaLeader = call(leader, attack[0], attack[1], json);
            HttpResponse<String> viaFollower = call(follower, attack[0], attack[1], json);
            String what = attack[0] + " " + attack[1];
            assertTrue(viaFollower.statusCode() >= 400 && viaFollower.statusCode() < 500, what + ": " + viaFollower.statusCode() + " " + viaFollower.body());
            assertEquals(viaLeader.statusCode(), viaFollower.statusCode(), what + ": " + viaFollower.body());
        }
        String routes = call(leader, "GET", "/routes", null).body();
        assertTrue(routes.contains("\"name\":\"api\""), "route api survives: " + routes);
        expect(200, call(leader, "GET", "/pools/api", null), "pool api survives");
        expect(200, call(leader, "GET", "/pools/api/servers/127.0.0.1/" + two, null), "its server survives");
        expect(200, call(leader, "GET", "/servers/127.0.0.1/" + one, null), "the default pool's server survives");
        assertTrue(call(leader, "GET", "/servers/127.0.0.1/" + one, null).body().contains("\"weight\":3"));

        // Without the token a follower refuses by itself, as the leader would.
        HttpResponse<String> anonymous = follower.request("DELETE", "/routes/api", null);
        expect(401, anonymous, "DELETE without a token");
        assertEquals(leader.raftId(), anonymous.headers().firstValue("X-Weldr-Leader").orElse(""));
        expect(401, follower.request("DELETE", "/routes/api", null, "Authorization", "Bearer wrong"), "a wrong token");
        expect(200, call(leader, "GET", "/routes/api", null), "still there");

        expect(204, call(follower, "DELETE", "/routes/api", null), "DELETE /routes/api");
        expect(204, call(follower, "DELETE", "/pools/api/servers/127.0.0.1/" + two, null), "DELETE /pools/api/servers/..");
        expect(204, call(follower, "DELETE", "/pools/api", null), "DELETE /pools/api");
        expect(204, call(follower, "DELETE", "/servers/127.0.0.1/" + one, null), "DELETE /servers/..");
        assertEquals(404, call(leader, "GET", "/pools/api", null).statusCode());

        // Membership and leadership, through a follower too.
        expect(400, call(follower, "POST", "/cluster/peers", "{\"peer\":\"127.0.0.1:1:2:3\"}"), "a malformed peer");
        expect(404, call(follower, "DELETE", "/cluster/peers/127.0.0.1/1", null), "not a member");
        expect(204, call(follower, "DELETE", "/cluster/peers/127.0.0.1/" + other.raftPort, null), "remove a member");
        String members = call(leader, "GET", "/cluster", null).body();
        assertFalse(members.contains(other.raftId()), members);
        expect(200, call(follower, "POST", "/cluster/peers", "{\"peer\":\"" + other.raftId() + "\"}"), "add it back");
        assertTrue(call(leader, "GET", "/cluster", null).body().contains(other.raftId()));
        expect(200, call(follower, "POST", "/cluster/leader", "{\"peer\":\"" + follower.raftId() + "\"}"), "hand leadership over");
        assertEquals(follower, awaitLeaderWithToken(c));
    }

    /** {@link TestCluster#awaitLeader}, for nodes whose /cluster needs the token. */
    private static WeldrProcess awaitLeaderWithToken(TestCluster c) {
        return TestCluster.awaitLeader(c.nodes, ELECTION, n -> call(n, "GET", "/cluster", null).body());
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
