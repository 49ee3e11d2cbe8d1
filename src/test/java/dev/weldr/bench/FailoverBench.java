package dev.weldr.bench;

import dev.weldr.it.Backends;
import dev.weldr.it.TestCluster;
import dev.weldr.it.WeldrProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fail-over and write-latency figures of a three-node loopback cluster. A benchmark: it prints,
 * it asserts nothing about speed. Run with {@code ./mvnw -B verify -Pbench -Dit.test=FailoverBench}.
 *
 * <p>Settings (system properties): {@code bench.election} (election timeout, default 500ms),
 * {@code bench.runs} (kill -9 rounds, default 7), {@code bench.writes} (writes per path, 200),
 * {@code bench.idle} and {@code bench.load} (seconds watched for spurious elections, idle and under
 * wrk load on the leader's proxy; default 600 and 120).
 */
class FailoverBench {

    private static final Pattern TERM = Pattern.compile("\"term\":(\\d+)");

    @TempDir
    Path dir;

    private static String prop(String key, String def) {
        return System.getProperty(key, def);
    }

    @Test
    void failoverAndWriteLatency() throws Exception {
        String election = prop("bench.election", "500ms");
        int runs = Integer.parseInt(prop("bench.runs", "7"));
        int writes = Integer.parseInt(prop("bench.writes", "200"));
        long idle = Long.parseLong(prop("bench.idle", "600"));
        long load = Long.parseLong(prop("bench.load", "120"));
        Map<String, String> props = Map.of("weldr.raft.election-timeout", election,
                "weldr.health-check.interval", "1s");
        System.out.printf("%n== weldr fail-over benchmark: 3 nodes on loopback, election timeout %s, %d cores%n",
                election, Runtime.getRuntime().availableProcessors());
        try (Backends backends = new Backends(); TestCluster c = new TestCluster(dir, 3, props).start()) {
            WeldrProcess leader = c.awaitLeader(Duration.ofSeconds(30));
            WeldrProcess.await(Duration.ofSeconds(10), leader::ready, "the first leader to be ready");
            int backend = backends.start("bench");
            check(leader.post("/servers", "{\"url\":\"http://127.0.0.1:" + backend + "\"}"), 201);

            latency("through the leader", leader, writes);
            latency("through a follower", c.followers(leader).get(0), writes);

            List<Long> failovers = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                leader = c.awaitLeader(Duration.ofSeconds(30));
                List<WeldrProcess> others = c.followers(leader);
                long killed = System.nanoTime();
                leader.kill();
                WeldrProcess[] next = new WeldrProcess[1];
                WeldrProcess.await(Duration.ofSeconds(30), () -> {
                    for (WeldrProcess o : others) {
                        if (o.ready()) {
                            next[0] = o;
                            return true;
                        }
                    }
                    return false;
                }, "a new leader to be ready");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
                failovers.add(ms);
                System.out.printf("run %d: kill -9 of %s -> %s ready after %d ms%n", run + 1, leader.raftId(), next[0].raftId(), ms);
                WeldrProcess back = leader.again("back" + run).start();
                c.nodes.set(c.nodes.indexOf(leader), back);
                WeldrProcess.await(Duration.ofSeconds(30), () -> back.get("/servers").body().contains("127.0.0.1:" + backend),
                        "the restarted node to catch up");
            }
            Collections.sort(failovers);
            System.out.printf("fail-over (kill -9 of the leader -> new leader ready), %d runs: median %d ms, max %d ms, all %s%n",
                    runs, failovers.get(failovers.size() / 2), failovers.get(failovers.size() - 1), failovers);

            leader = c.awaitLeader(Duration.ofSeconds(30));
            long term = term(leader);
            System.out.printf("watching for spurious elections: %d s idle ...%n", idle);
            Thread.sleep(TimeUnit.SECONDS.toMillis(idle));
            long afterIdle = term(c.awaitLeader(Duration.ofSeconds(30)));
            System.out.printf("idle %d s: term %d -> %d (%d elections)%n", idle, term, afterIdle, afterIdle - term);

            if (load > 0) {
                System.out.printf("... and %d s under wrk load (2 threads, 50 connections) on the leader's proxy%n", load);
                Process wrk = new ProcessBuilder("wrk", "-t2", "-c50", "-d" + load + "s", leader.proxy() + "/")
                        .redirectErrorStream(true).start();
                String out = new String(wrk.getInputStream().readAllBytes());
                wrk.waitFor();
                long afterLoad = term(c.awaitLeader(Duration.ofSeconds(30)));
                System.out.printf("load %d s: term %d -> %d (%d elections); wrk: %s%n", load, afterIdle, afterLoad,
                        afterLoad - afterIdle, out.lines().filter(l -> l.contains("Requests/sec") || l.contains("requests in")).toList());
            }
        }
    }

    private static void latency(String label, WeldrProcess via, int writes) {
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < writes; i++) {
            long start = System.nanoTime();
            check(via.post("/servers", "{\"url\":\"http://127.0.0.1:" + (20000 + i) + "\"}"), 201);
            micros.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
            check(via.delete("/servers/127.0.0.1/" + (20000 + i)), 204);
        }
        Collections.sort(micros);
        System.out.printf("POST /servers %s, %d writes: p50 %.1f ms, p99 %.1f ms%n", label, writes,
                micros.get(micros.size() / 2) / 1000.0, micros.get((int) (micros.size() * 0.99)) / 1000.0);
    }

    private static long term(WeldrProcess node) {
        Matcher m = TERM.matcher(node.get("/cluster").body());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void check(HttpResponse<String> r, int status) {
        if (r.statusCode() != status) {
            throw new AssertionError("expected " + status + ", got " + r.statusCode() + ": " + r.body());
        }
    }
}
