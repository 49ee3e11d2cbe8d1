package dev.weldr.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Collectors;

/** N weldr processes on loopback that bootstrap one cluster (after SOFAJRaft's TestCluster). */
public final class TestCluster implements AutoCloseable {

    public final List<WeldrProcess> nodes = new ArrayList<>();

    public TestCluster(Path dir, int n, Map<String, String> extra) {
        this(dir, java.util.Collections.nCopies(n, 0), extra);
    }

    /**
     * A node for each of {@code proxyPorts}, listening there (0: a free port): for a test whose
     * other parts (a CA's validation requests) must know a node's port before the nodes start.
     */
    public TestCluster(Path dir, List<Integer> proxyPorts, Map<String, String> extra) {
        this(dir, proxyPorts, extra, i -> Map.of());
    }

    /** N nodes, node {@code i} with {@code perNode.apply(i)}'s settings on top of {@code extra} (its own certificate files). */
    public TestCluster(Path dir, int n, Map<String, String> extra, IntFunction<Map<String, String>> perNode) {
        this(dir, java.util.Collections.nCopies(n, 0), extra, perNode);
    }

    private TestCluster(Path dir, List<Integer> proxyPorts, Map<String, String> extra, IntFunction<Map<String, String>> perNode) {
        int n = proxyPorts.size();
        List<int[]> ports = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int proxy = proxyPorts.get(i) == 0 ? WeldrProcess.freePort() : proxyPorts.get(i);
            ports.add(new int[]{WeldrProcess.freePort(), proxy, WeldrProcess.freePort()});
        }
        String peers = ports.stream().map(p -> "127.0.0.1:" + p[2]).collect(Collectors.joining(","));
        for (int i = 0; i < n; i++) {
            Map<String, String> props = new LinkedHashMap<>(extra);
            props.putAll(perNode.apply(i));
            props.put("weldr.raft.peers", peers);
            int[] p = ports.get(i);
            nodes.add(WeldrProcess.create("node" + i, dir.resolve("node" + i), p[0], p[1], p[2], props));
        }
    }

    public TestCluster start() {
        nodes.forEach(WeldrProcess::launch);
        nodes.forEach(n -> n.awaitLive(Duration.ofSeconds(60)));
        return this;
    }

    /** The one node that reports itself leader in /cluster, waiting for an election if needed. */
    public WeldrProcess awaitLeader(Duration timeout) {
        return awaitLeader(nodes, timeout, n -> n.get("/cluster").body());
    }

    public Optional<WeldrProcess> leader() {
        return leader(nodes, n -> n.get("/cluster").body());
    }

    /** The one live node of {@code among} whose {@code GET /cluster} (read by {@code cluster}: with a token, say) names itself leader. */
    public static WeldrProcess awaitLeader(List<WeldrProcess> among, Duration timeout, Function<WeldrProcess, String> cluster) {
        WeldrProcess[] found = new WeldrProcess[1];
        WeldrProcess.await(timeout, () -> {
            found[0] = leader(among, cluster).orElse(null);
            return found[0] != null;
        }, "a leader");
        return found[0];
    }

    private static Optional<WeldrProcess> leader(List<WeldrProcess> among, Function<WeldrProcess, String> cluster) {
        return among.stream().filter(WeldrProcess::alive)
                .filter(n -> {
                    String body = cluster.apply(n);
                    return body.contains("\"self\":\"" + n.raftId() + "\"") && body.contains("\"leader\":\"" + n.raftId() + "\"");
                }).findFirst();
    }

    public List<WeldrProcess> followers(WeldrProcess leader) {
        return nodes.stream().filter(n -> n != leader && n.alive()).toList();
    }

    @Override
    public void close() {
        nodes.forEach(WeldrProcess::close);
    }
}
