package dev.weldr.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VIP and the role commands of real weldr processes, with stand-ins for {@code ip} and
 * {@code arping} on their PATH that log each call (and fail {@code ip addr add} when told to), so
 * no address is touched: the VIP's life against a hook's, the guard that outlives a killed
 * process, and the drain of a leader stopped with SIGTERM.
 */
class HaIT {

    private static final Duration ELECTION = Duration.ofSeconds(30);
    private static final String VIP = "10.77.0.100/24";
    private static final String ADD = "ip addr add " + VIP + " dev lab0";
    private static final String DEL = "ip addr del " + VIP + " dev lab0";

    @TempDir
    Path dir;
    @RegisterExtension
    final Backends backends = new Backends();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private Path bin;

    @AfterEach
    void tearDown() throws Exception {
        // Lets every hook that waits for it end, before the nodes go.
        Files.writeString(dir.resolve("release"), "");
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private Map<String, String> vipProps() {
        Map<String, String> props = new HashMap<>();
        props.put("weldr.raft.election-timeout", "1s");
        props.put("weldr.vip.address", VIP);
        props.put("weldr.vip.interface", "lab0");
        return props;
    }

    /** Stand-ins that append "ip ARGS" / "arping ARGS" to $WELDR_FAKE_LOG; ip fails "addr add" when $WELDR_FAKE_ADD_FAILS is set. */
    private Path standIns() throws IOException {
        if (bin == null) {
            bin = Files.createDirectories(dir.resolve("bin"));
            Files.writeString(bin.resolve("ip"), """
                    #!/bin/sh
                    echo "ip $*" >> "$WELDR_FAKE_LOG"
                    if [ -n "$WELDR_FAKE_ADD_FAILS" ] && [ "$1 $2" = "addr add" ]; then
                      echo "RTNETLINK answers: Operation not permitted" >&2
                      exit 2
                    fi
                    """);
            Files.writeString(bin.resolve("arping"), "#!/bin/sh\necho \"arping $*\" >> \"$WELDR_FAKE_LOG\"\n");
            assertTrue(bin.resolve("ip").toFile().setExecutable(true));
            assertTrue(bin.resolve("arping").toFile().setExecutable(true));
        }
        return bin;
    }

    private WeldrProcess withStandIns(WeldrProcess node, Path log) throws IOException {
        return node.env("PATH", standIns() + ":" + System.getenv("PATH")).env("WELDR_FAKE_LOG", log.toString())
                .env("WELDR_HOOK_RELEASE", dir.resolve("release").toString());
    }

    private WeldrProcess lone(String name, Map<String, String> props, Path log) throws IOException {
        WeldrProcess node = withStandIns(WeldrProcess.create(name, dir.resolve(name), props), log);
        closing.add(node);
        return node;
    }

    @Test
    void shouldRunAHookPrintingAMegabyteToItsEndAndNeverCallAVipTakenThatFailed() throws Exception {
        Path log = dir.resolve("fake.log");
        Map<String, String> props = vipProps();
        props.put("weldr.ha.on-leader", "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo hook-done >> \"$WELDR_FAKE_LOG\"");
        WeldrProcess node = lone("chatty", props, log).env("WELDR_FAKE_ADD_FAILS", "yes").start();

        // Hooks are stopped after 30 s: a hook blocked on a full pipe would end as "did not finish", never with its exit.
        WeldrProcess.await(Duration.ofSeconds(90), () -> node.stdout().contains("on-leader command exited with 0")
                || node.stdout().contains("did not finish within"), "the on-leader command to end");
        assertTrue(node.stdout().contains("on-leader command exited with 0"), node.stdout());
        assertTrue(node.stdout().contains("1048577 bytes of output"), node.stdout());
        assertTrue(read(log).contains("hook-done"), read(log));

        // The failed take is tried again, and reported once, as a failure.
        WeldrProcess.await(Duration.ofSeconds(30), () -> count(log, ADD) >= 3, "the take to be tried again");
        String out = node.stdout();
        assertEquals(1, out.lines().filter(l -> l.contains("virtual IP " + VIP + " could not be taken on lab0")
                && l.contains("Operation not permitted")).count(), out);
        assertFalse(out.contains("virtual IP " + VIP + " taken"), out);
        assertFalse(read(log).contains("arping"), "an address not held is never announced: " + read(log));
        assertTrue(node.ready(), "the node leads, VIP or not");
    }

    @Test
    void shouldRemoveTheVipWhenTheProcessIsKilledAndOnlyOnceWhenItReleasesIt() throws Exception {
        Path log = dir.resolve("fake.log");
        WeldrProcess node = lone("guarded", vipProps(), log).start();
        WeldrProcess.await(Duration.ofSeconds(30), () -> count(log, ADD) >= 1, "the VIP to be taken");
        ProcessHandle guard = awaitGuard(node);
        long dels = count(log, DEL);

        node.kill();
        WeldrProcess.await(Duration.ofSeconds(30), () -> count(log, DEL) > dels, "the guard to remove the VIP");
        guard.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(node.stderr().contains("weldr-vip-guard: weldr ended holding " + VIP), node.stderr());

        // A process that releases the VIP itself (SIGTERM) removes it once; its guard then ends without touching it.
        WeldrProcess again = node.again("guarded-again");
        closing.add(again);
        long adds = count(log, ADD);
        again.start();
        WeldrProcess.await(Duration.ofSeconds(30), () -> count(log, ADD) > adds, "the VIP to be taken again");
        ProcessHandle second = awaitGuard(again);
        long before = count(log, DEL);
        again.stop();
        second.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(before + 1, count(log, DEL), read(log));
        assertFalse(again.stderr().contains("weldr-vip-guard"), again.stderr());
    }

    @Test
    void shouldTakeTheVipWhileASlowHookStillRuns() throws Exception {
        Map<String, String> props = vipProps();
        // A follower's hook that runs until the test lets it end (it never does before the take).
        props.put("weldr.ha.on-follower", "echo \"follower-start $WELDR_SELF\" >> \"$WELDR_FAKE_LOG\"; "
                + "while [ ! -e \"$WELDR_HOOK_RELEASE\" ]; do sleep 0.1; done; echo follower-end >> \"$WELDR_FAKE_LOG\"");
        TestCluster c = new TestCluster(dir, 3, props);
        closing.add(c);
        for (int i = 0; i < 3; i++) {
            withStandIns(c.nodes.get(i), dir.resolve("fake" + i + ".log"));
        }
        c.start();
        WeldrProcess leader = c.awaitLeader(ELECTION);
        WeldrProcess target = c.followers(leader).get(0);
        Path targetLog = dir.resolve("fake" + c.nodes.indexOf(target) + ".log");
        WeldrProcess.await(Duration.ofSeconds(30), () -> read(targetLog).contains("follower-start " + target.raftId()),
                "the follower's hook to start");

        HttpResponse<String> r = target.post("/cluster/leader", "{\"peer\":\"" + target.raftId() + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        WeldrProcess.await(Duration.ofSeconds(30), () -> read(targetLog).contains(ADD), "the new leader to take the VIP");
        // Taken while the hook still runs: not after it ended, nor after it was stopped at its 30 s timeout.
        assertTrue(target.children().stream().anyMatch(p -> p.info().commandLine().orElse("").contains("follower-start")),
                "the hook still runs: " + target.stdout());
        assertFalse(target.stdout().contains("did not finish within"), target.stdout());
        assertFalse(read(targetLog).contains("follower-end"), read(targetLog));
        WeldrProcess.await(Duration.ofSeconds(30), () -> read(targetLog).contains("arping -U"), "the new leader to announce the VIP");
    }

    @Test
    void shouldKeepProxyingForTheStopDrainAfterHandingOverLeadership() throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("weldr.raft.election-timeout", "500ms");
        // Long enough for the test to look while a loaded machine is slow; the test waits for it to end.
        props.put("weldr.ha.stop-drain", "20s");
        TestCluster c = new TestCluster(dir, 3, props);
        closing.add(c);
        c.start();
        WeldrProcess leader = c.awaitLeader(ELECTION);
        int port = backends.start("drained");
        assertEquals(201, leader.post("/servers", "{\"url\":\"http://127.0.0.1:" + port + "\"}").statusCode());
        for (WeldrProcess n : c.nodes) {
            WeldrProcess.await(Duration.ofSeconds(20), () -> n.get("/servers").body().contains("127.0.0.1:" + port),
                    n.raftId() + " to have the server");
        }

        leader.terminate();
        WeldrProcess.await(Duration.ofSeconds(30), () -> leader.stdout().contains("leadership handed to"), "the hand-over");
        WeldrProcess.await(Duration.ofSeconds(30), () -> c.followers(leader).stream()
                .anyMatch(n -> n.get("/cluster").body().contains("\"leader\":\"" + n.raftId() + "\"")), "another node to lead");
        assertTrue(leader.alive(), "the old leader drains: " + leader.stdout());
        HttpResponse<String> served = leader.proxyGet("/");
        assertEquals(200, served.statusCode(), served.body());
        assertEquals("drained", served.body());
        assertTrue(leader.stdout().contains("draining for 20000 ms"), leader.stdout());

        // Then it ends by itself (143: the JVM's exit status after SIGTERM), and the cluster goes on without it.
        assertEquals(143, leader.awaitExit(Duration.ofSeconds(90)), leader.output());
        assertNotEquals(Optional.empty(), c.leader());
    }

    /** The VIP guard among the node's children, once it runs. */
    private static ProcessHandle awaitGuard(WeldrProcess node) {
        ProcessHandle[] found = new ProcessHandle[1];
        WeldrProcess.await(Duration.ofSeconds(30), () -> (found[0] = node.children().stream()
                .filter(p -> p.info().commandLine().orElse("").contains("weldr-vip-guard"))
                .findFirst().orElse(null)) != null, "the VIP guard to run");
        return found[0];
    }

    private static long count(Path log, String line) {
        return read(log).lines().filter(line::equals).count();
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
