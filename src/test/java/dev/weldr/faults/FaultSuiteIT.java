package dev.weldr.faults;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

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
}
