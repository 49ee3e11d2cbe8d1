package dev.weldr.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * A weldr cluster in a {@link Lab}: a node and a backend on each of N hosts, spare hosts for nodes
 * that join later, the client's agent, and the VIP sampler. It knows how to find the leader, to
 * wait for the cluster to be whole again, and to read every node's pool, all from the client host.
 */
public final class WeldrLab implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Ports of each host's backend: the base server, and the range the writer draws servers from. */
    static final int BASE_PORT = 8000;
    static final int FIRST_PORT = 9000;
    static final int PORTS = 120;

    /**
     * The lab's knobs; weldr's own settings are its defaults but for the election timeout, health
     * checks and, with {@code mtls}, mutual TLS on the Raft port.
     */
    public record Settings(Duration election, int probeIntervalMs, int probeTimeoutMs, int samplerMs,
                           int writers, int writerPauseMs, long seed, boolean mtls) {
        static Settings defaults() {
            return new Settings(duration(System.getProperty("faults.election", "500ms")),
                    20, 2000, 20, 2, 120, Long.getLong("faults.seed", System.nanoTime()),
                    Boolean.parseBoolean(System.getProperty("faults.mtls", "true")));
        }

        static Duration duration(String s) {
            String t = s.trim().toLowerCase();
            return t.endsWith("ms") ? Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)))
                    : Duration.ofMillis(Math.round(Double.parseDouble(t.replaceAll("s$", "")) * 1000));
        }

        Map<String, String> weldr() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("weldr.raft.election-timeout", election.toMillis() + "ms");
            m.put("weldr.health-check.interval", "1s");
            // JRaft's election lines (pre-vote, vote, leader), for the fail-over breakdown (Failover).
            m.put("quarkus.log.category.\"com.alipay.sofa.jraft.core.NodeImpl\".level", "INFO");
            return m;
        }
    }

    /** A node's view of the cluster, from its {@code GET /cluster}. */
    public record View(String self, String leader, long term, List<String> members) {
        boolean leads() {
            return self.equals(leader);
        }
    }

    public final Lab lab;
    public final Settings settings;
    /** The lab's cluster CA and certificates, when the nodes speak mutual TLS on the Raft port; else null. */
    final LabTls tls;
    public final Agent agent;
    public final VipSampler sampler;
    /** The current members of the cluster, running or not. */
    public final List<LabNode> nodes = new CopyOnWriteArrayList<>();
    private final Deque<Lab.Host> spare = new ArrayDeque<>();
    public final Set<String> base = new TreeSet<>();
    public final List<String> universe = new ArrayList<>();
    private final Map<Lab.Host, LabNode> running = new java.util.concurrent.ConcurrentHashMap<>();

    private WeldrLab(Lab lab, int n, Settings settings) {
        this.lab = lab;
        this.settings = settings;
        this.tls = settings.mtls() ? LabTls.mint(lab) : null;
        List<Lab.Host> all = lab.hosts;
        for (Lab.Host h : all) {
            lab.spawn(h, List.of(java(), "-Xmx24m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss256k",
                            "-cp", Path.of("target", "test-classes").toAbsolutePath().toString(), LabBackend.class.getName(),
                            // Every address of the host: its own, and the VIP (keepalived's comparison probes VIP:8000).
                            "0.0.0.0", h.name, Integer.toString(BASE_PORT), FIRST_PORT + "-" + (FIRST_PORT + PORTS - 1)),
                    lab.dir.resolve(h.name + "-backend.log"));
            for (int p = 0; p < PORTS; p++) {
                universe.add(h.ip + ":" + (FIRST_PORT + p));
            }
        }
        String peers = all.subList(0, n).stream().map(h -> h.ip + ":" + LabNode.RAFT).collect(Collectors.joining(","));
        for (int i = 0; i < all.size(); i++) {
            if (i < n) {
                nodes.add(node(all.get(i), peers, null));
                base.add(all.get(i).ip + ":" + BASE_PORT);
            } else {
                spare.add(all.get(i));
            }
        }
        agent = new Agent(lab);
        sampler = new VipSampler(all, h -> {
            LabNode node = running.get(h);
            return node != null && node.booted();
        }, settings.samplerMs());
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private LabNode node(Lab.Host h, String peers, String join) {
        Map<String, String> weldr = new LinkedHashMap<>(settings.weldr());
        if (tls != null) {
            weldr.putAll(tls.settings(h));
        }
        LabNode node = new LabNode(lab, h, peers, join, weldr);
        running.put(h, node);
        return node;
    }

    /** Starts a lab of {@code n} weldr nodes and {@code spares} empty hosts, adds each host's base backend, and starts the client. */
    public static WeldrLab start(int n, int spares, Settings settings, Path dir) {
        Lab lab = Lab.create(n + spares, dir);
        try {
            WeldrLab w = new WeldrLab(lab, n, settings);
            w.nodes.forEach(LabNode::start);
            LabNode leader = w.awaitLeader(Duration.ofSeconds(90));
            for (String s : w.base) {
                retry(Duration.ofSeconds(30), () -> {
                    Agent.Reply r = w.agent.http("POST", leader.admin() + "/servers", "{\"url\":\"http://" + s + "\"}", 10_000);
                    return r.status() == 201 || r.status() == 409;
                }, "adding the base server " + s);
            }
            w.agent.startProbes("http://" + Lab.VIP + ":" + LabNode.PROXY + "/", settings.probeIntervalMs(), settings.probeTimeoutMs());
            return w;
        } catch (RuntimeException | Error e) {
            lab.close();
            throw e;
        }
    }

    // ---- Views of the cluster ------------------------------------------------------------------

    public Optional<View> view(LabNode n) {
        if (!n.alive()) {
            return Optional.empty();
        }
        return parseView(agent.http("GET", n.admin() + "/cluster", null, 1500));
    }

    /** Every running member's view, asked all at once (a node cut off costs one timeout, not one each). */
    public Map<LabNode, View> views() {
        Map<LabNode, java.util.concurrent.CompletableFuture<Agent.Reply>> asked = new LinkedHashMap<>();
        for (LabNode n : nodes) {
            if (n.alive()) {
                asked.put(n, agent.call("GET", n.admin() + "/cluster", null, 1500));
            }
        }
        Map<LabNode, View> views = new LinkedHashMap<>();
        asked.forEach((n, f) -> parseView(f.join()).ifPresent(v -> views.put(n, v)));
        return views;
    }

    private static Optional<View> parseView(Agent.Reply r) {
        if (r.status() != 200) {
            return Optional.empty();
        }
        try {
            JsonNode j = JSON.readTree(r.body());
            List<String> members = new ArrayList<>();
            j.path("peers").forEach(p -> members.add(p.path("id").asText()));
            return Optional.of(new View(j.path("self").asText(), j.path("leader").isNull() ? "" : j.path("leader").asText(""),
                    j.path("term").asLong(), members));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The node that leads according to itself and to a majority of the members, if any. */
    public Optional<LabNode> leader() {
        Map<LabNode, View> views = views();
        for (Map.Entry<LabNode, View> e : views.entrySet()) {
            if (!e.getValue().leads()) {
                continue;
            }
            long named = views.values().stream().filter(v -> v.leader().equals(e.getValue().self())).count();
            if (named > nodes.size() / 2) {
                return Optional.of(e.getKey());
            }
        }
        return Optional.empty();
    }

    public LabNode awaitLeader(Duration timeout) {
        LabNode[] found = new LabNode[1];
        await(timeout, () -> (found[0] = leader().orElse(null)) != null, "a leader named by a majority");
        return found[0];
    }

    public LabNode node(Lab.Host h) {
        return nodes.stream().filter(n -> n.host == h).findFirst().orElseThrow();
    }

    public List<LabNode> followers(LabNode leader) {
        return nodes.stream().filter(n -> n != leader).toList();
    }

    /** The pool as a node has it ({@code consistent}: after a ReadIndex), or null when it does not answer 200. */
    public Set<String> servers(LabNode n, boolean consistent) {
        Agent.Reply r = agent.http("GET", n.admin() + "/servers" + (consistent ? "?consistent=true" : ""), null, 5000);
        return r.status() == 200 ? Writer.ids(r.body()) : null;
    }

    /**
     * Whole again: every member runs, all name one leader in one term, the leader's host is the one
     * host with the VIP, and the client's recent probes through the VIP all succeeded.
     */
    public String whole() {
        for (LabNode n : nodes) {
            if (!n.alive()) {
                return n + " is not running";
            }
        }
        Set<String> leaders = new LinkedHashSet<>();
        LabNode leader = null;
        Map<LabNode, View> views = views();
        for (LabNode n : nodes) {
            Optional<View> v = Optional.ofNullable(views.get(n));
            if (v.isEmpty()) {
                return n + " does not answer GET /cluster";
            }
            leaders.add(v.get().leader() + "@" + v.get().term());
            if (v.get().leads()) {
                leader = n;
            }
            Set<String> members = new TreeSet<>(v.get().members());
            Set<String> expected = nodes.stream().map(LabNode::raftId).collect(Collectors.toCollection(TreeSet::new));
            if (!members.equals(expected)) {
                return n + " has members " + members + ", not " + expected;
            }
        }
        if (leaders.size() != 1 || leader == null) {
            return "the nodes name leaders " + leaders;
        }
        List<Lab.Host> holders = sampler.holdersNow();
        if (!holders.equals(List.of(leader.host))) {
            return "the VIP is on " + holders + " while " + leader + " leads";
        }
        long now = System.currentTimeMillis();
        List<Agent.Probe> recent = agent.probes(now - 1000, now);
        if (recent.size() < 10 || !recent.stream().allMatch(Agent.Probe::ok)) {
            return "the client's last second: " + recent.stream().filter(Agent.Probe::ok).count() + " of " + recent.size() + " probes succeeded";
        }
        return null;
    }

    /** Waits until {@link #whole()}; fails with what is still wrong. */
    public void awaitWhole(Duration timeout) {
        String[] last = new String[1];
        try {
            await(timeout, () -> (last[0] = whole()) == null, "the cluster to be whole");
        } catch (AssertionError e) {
            throw new AssertionError("the cluster is not whole after " + timeout.toSeconds() + " s: " + last[0], e);
        }
    }

    /** Waits until every member's own pool equals a consistent read; returns that pool. */
    public Set<String> awaitConverged(Duration timeout) {
        Object[] last = new Object[1];
        try {
            await(timeout, () -> {
                Map<String, Set<String>> seen = new LinkedHashMap<>();
                Set<String> truth = null;
                for (LabNode n : nodes) {
                    Set<String> c = servers(n, true);
                    if (c == null) {
                        last[0] = n + " answers no consistent read";
                        return false;
                    }
                    truth = truth == null ? c : truth;
                    seen.put(n + " (consistent)", c);
                    seen.put(n.toString(), servers(n, false));
                }
                Set<String> t = truth;
                last[0] = seen;
                return seen.values().stream().allMatch(s -> Objects.equals(s, t));
            }, "every node to have the same pool");
        } catch (AssertionError e) {
            throw new AssertionError("the nodes' pools do not converge within " + timeout.toSeconds() + " s: " + last[0], e);
        }
        return servers(nodes.get(0), true);
    }

    /** Removes every server but the base ones, outside of any history; returns when every node has just the base. */
    public void resetPool() {
        LabNode leader = awaitLeader(Duration.ofSeconds(30));
        Set<String> pool = servers(leader, true);
        if (pool == null) {
            throw new AssertionError("the leader answers no consistent read");
        }
        for (String s : pool) {
            if (!base.contains(s)) {
                retry(Duration.ofSeconds(30), () -> {
                    Agent.Reply r = agent.http("DELETE", leader.admin() + "/servers/" + s.replace(':', '/'), null, 10_000);
                    return r.status() == 204 || r.status() == 404;
                }, "removing " + s);
            }
        }
        for (String s : base) {
            if (!pool.contains(s)) {
                throw new AssertionError("the base server " + s + " is gone from the pool: " + pool);
            }
        }
        Set<String> now = awaitConverged(Duration.ofSeconds(30));
        if (!now.equals(base)) {
            throw new AssertionError("the pool is " + now + " after the reset, not " + base);
        }
    }

    /** A node that joins the cluster on a spare host (through {@code via}); null when no host is spare. */
    public LabNode join(LabNode via) {
        Lab.Host h = spare.poll();
        if (h == null) {
            return null;
        }
        LabNode n = node(h, null, via.admin());
        n.start();
        return n;
    }

    /**
     * A node that is no member, on a spare host, started with {@code settings} on top of the lab's:
     * its initial peers are the members and itself, and its data names the cluster's Raft group
     * (derived from the initial peer list, so no secret), so it campaigns in the cluster's group,
     * sending the members pre-votes they would answer. It never holds the VIP. Null when no host
     * is spare; {@link #dismiss} it when done.
     */
    public LabNode rogue(java.util.function.Function<Lab.Host, Map<String, String>> settings) {
        Lab.Host h = spare.poll();
        if (h == null) {
            return null;
        }
        String peers = java.util.stream.Stream.concat(nodes.stream().map(LabNode::raftId), java.util.stream.Stream.of(h.ip + ":" + LabNode.RAFT))
                .collect(Collectors.joining(","));
        Map<String, String> weldr = new LinkedHashMap<>(this.settings.weldr());
        weldr.putAll(settings.apply(h));
        LabNode rogue = new LabNode(lab, h, peers, null, weldr).withoutVip().claimClusterId(nodes.get(0).clusterId());
        rogue.start();
        return rogue;
    }

    /** Stops a {@link #rogue}, wipes its data, and gives its host back. */
    public void dismiss(LabNode rogue) {
        if (rogue.alive()) {
            rogue.stop();
        }
        rogue.wipe();
        spare.add(rogue.host);
    }

    /** The node is no member any more and has stopped: its host becomes spare, its data is wiped. */
    public void retire(LabNode n) {
        nodes.remove(n);
        if (n.alive()) {
            n.stop();
        }
        n.wipe();
        spare.add(n.host);
    }

    public void startDead() {
        for (LabNode n : nodes) {
            if (!n.alive()) {
                n.start();
            }
        }
    }

    @Override
    public void close() {
        sampler.close();
        try {
            agent.close();
        } finally {
            lab.close();
        }
    }

    // ---- Waiting ---------------------------------------------------------------------------------

    public static void await(Duration timeout, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(100);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
    }

    static void retry(Duration timeout, BooleanSupplier attempt, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!attempt.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up after " + timeout.toSeconds() + " s: " + what);
            }
            sleep(300);
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
