package dev.weldr.faults;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suite, short version: one run of each scenario on three weldr nodes in network
 * namespaces (plus a spare host for the node that joins), with the client, the writer and the VIP
 * sampler running throughout. Correctness is asserted after each scenario; speed is only printed.
 * Needs root; skipped with a message otherwise. The long version is {@link FaultSoak}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class FaultSuiteIT {

    private WeldrLab lab;
    private Random random;
    private long started;
    private final List<ScenarioRun.Report> reports = new ArrayList<>();

    @BeforeAll
    void startLab() {
        Lab.assumeLabPossible();
        started = System.currentTimeMillis();
        WeldrLab.Settings settings = WeldrLab.Settings.defaults();
        random = new Random(settings.seed());
        System.out.printf("[faults] short suite: 3 nodes, election timeout %d ms, Raft port %s, seed %d (-Dfaults.seed to repeat)%n",
                settings.election().toMillis(), settings.mtls() ? "mutual TLS" : "plain TCP", settings.seed());
        lab = WeldrLab.start(3, 1, settings, Path.of("target", "faults"));
    }

    @AfterAll
    void stopLab() {
        if (lab != null) {
            lab.close();
            System.out.printf("[faults] short suite done in %.0f s; logs in %s%n", (System.currentTimeMillis() - started) / 1000.0, lab.lab.dir);
            for (ScenarioRun.Report r : reports) {
                System.out.printf("[faults] %-62s gap %s, %d failed requests, %s%n", r.scenario(),
                        ScenarioRun.secs(r.longestGap()), r.failed(), r.problems().isEmpty() ? "ok" : "PROBLEMS");
            }
        }
    }

    private void check(Scenario scenario) {
        ScenarioRun.Report r = scenario.run(lab, random, false);
        reports.add(r);
        System.out.print(r.text());
        assertTrue(r.problems().isEmpty(), scenario.title + ":\n" + String.join("\n", r.problems()));
    }

    @Test
    @Order(1)
    void killMinus9OfTheLeader() {
        check(Scenario.KILL_LEADER);
    }

    @Test
    @Order(2)
    void gracefulRestartOfTheLeader() {
        check(Scenario.GRACEFUL_RESTART);
    }

    @Test
    @Order(3)
    void leaderIsolatedThenHealed() {
        check(Scenario.ISOLATE_LEADER);
    }

    @Test
    @Order(4)
    void partitionThenFrameLoss() {
        check(Scenario.PARTITION_AND_LOSS);
    }

    @Test
    @Order(5)
    void allNodesKilledAndRestarted() {
        check(Scenario.KILL_ALL);
    }

    @Test
    @Order(6)
    void rollingRestartUnderLoad() {
        check(Scenario.ROLLING_RESTART);
    }

    @Test
    @Order(7)
    void nodeAddedAndAnotherRemovedDuringWrites() {
        check(Scenario.MEMBERSHIP);
    }

    /**
     * A host whose certificate is for its own address but from another CA runs weldr with the
     * members as its peers and the cluster's Raft group, so it campaigns. Without mutual TLS the
     * members answer its pre-votes (refusing them: they have a leader, and it is no member), and
     * its log shows their answers; with it, each member refuses its handshakes (counted in
     * weldr_raft_refused_total), no answer reaches it, and the cluster keeps its leader, term and pool.
     */
    @Test
    @Order(8)
    void hostWithACertificateFromAnotherCaIsRefused() {
        Assumptions.assumeTrue(lab.tls != null, "the lab runs without mutual TLS (-Dfaults.mtls=false)");
        lab.awaitWhole(Duration.ofSeconds(60));
        LabNode leader = lab.awaitLeader(Duration.ofSeconds(30));
        WeldrLab.View before = lab.view(leader).orElseThrow();
        Set<String> pool = lab.awaitConverged(Duration.ofSeconds(30));
        LabNode rogue = lab.rogue(lab.tls::foreign);
        assertNotNull(rogue, "no spare host for the rogue node");
        try {
            System.out.printf("[faults] rogue: %s with a certificate from another CA, campaigning against %s (leader %s, term %d)%n",
                    rogue, lab.nodes, leader, before.term());
            // Until each member has refused two of its handshakes more than before (so it has
            // tried and is not trying for the first time when the cluster is looked at), or has
            // answered it (a failure, reported just below).
            Map<LabNode, Double> refusedBefore = new java.util.LinkedHashMap<>();
            for (LabNode m : lab.nodes) {
                WeldrLab.await(Duration.ofSeconds(30), () -> {
                    refusedBefore.put(m, refusedHandshakes(m));
                    return refusedBefore.get(m) >= 0;
                }, m + " to show weldr_raft_refused_total in /q/metrics");
            }
            WeldrLab.await(Duration.ofSeconds(120), () -> lab.nodes.stream()
                            .allMatch(m -> preVotes(rogue, m) > 0 || refusedHandshakes(m) >= refusedBefore.get(m) + 2),
                    "each member to refuse two handshakes of " + rogue + " (weldr_raft_refused_total{reason=\"handshake\"}: before "
                            + refusedBefore + ")");
            for (LabNode member : lab.nodes) {
                assertEquals(0, preVotes(rogue, member), member + " answered " + rogue + " (" + rogue.log() + ")");
            }
            WeldrLab.View after = lab.view(leader).orElseThrow(() -> new AssertionError(leader + " does not answer GET /cluster"));
            assertEquals(before.self(), after.leader(), "the cluster keeps its leader");
            assertEquals(before.term(), after.term(), "the cluster keeps its term");
            lab.awaitWhole(Duration.ofSeconds(30));
            assertEquals(pool, lab.awaitConverged(Duration.ofSeconds(30)), "the cluster keeps its pool");
        } finally {
            lab.dismiss(rogue);
        }
    }

    /** The answers to its pre-votes the rogue got from {@code member}: JRaft's NodeImpl logs the first at WARN, as it takes a higher term. */
    private static long preVotes(LabNode rogue, LabNode member) {
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(rogue.log())) {
            return lines.filter(l -> l.contains("[NodeImpl]") && l.contains("PreVoteResponse from " + member.raftId())).count();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** The member's count of TLS handshakes its Raft port refused; -1 when it does not answer. */
    private double refusedHandshakes(LabNode member) {
        Agent.Reply r = lab.agent.http("GET", member.admin() + "/q/metrics", null, 5000);
        if (r.status() != 200) {
            return -1;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^weldr_raft_refused_total\\{[^}]*reason=\"handshake\"[^}]*\\} (\\S+)$",
                java.util.regex.Pattern.MULTILINE).matcher(r.body());
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
