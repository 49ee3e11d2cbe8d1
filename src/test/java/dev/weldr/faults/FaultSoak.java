package dev.weldr.faults;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suite, long version: five weldr nodes (and a spare host), every scenario many times
 * with random targets, random schedules of the faults, and keepalived on the same hosts for
 * comparison. Prints the figures; asserts correctness only (no lost write, no phantom, never two
 * live VIP holders, the cluster whole again after each run).
 *
 * <pre>
 * ./mvnw -B verify -Psoak                       # 10 cycles, 5 nodes, 10 schedules, 10+10 keepalived rounds
 * ./mvnw -B verify -Psoak -Dsoak.runs=3 -Dsoak.nodes=3 -Dsoak.keepalived=0 -Dfaults.election=500ms
 * </pre>
 * {@code soak.runs}: cycles (each runs every scenario once, in random order); {@code soak.scenarios}: only
 * these scenarios (names of {@link Scenario}, comma-separated); {@code soak.schedules}:
 * random schedules of 2-4 faults (default: as many as cycles); {@code soak.keepalived}: kill -9 and
 * SIGTERM rounds of keepalived (0: none); {@code faults.election}: weldr's election timeout (500ms, weldr's default);
 * {@code faults.seed}: the random seed, to repeat a soak; {@code soak.watch} and {@code soak.watch.load}: seconds
 * of the spurious-election check after the cycles, idle and under wrk load ({@link ElectionWatch}; 0: none), where
 * any election is a problem.
 */
class FaultSoak {

    @Test
    void soak() {
        int cycles = Integer.getInteger("soak.runs", 10);
        int nodes = Integer.getInteger("soak.nodes", 5);
        int schedules = Integer.getInteger("soak.schedules", cycles);
        int keepalivedRuns = Integer.getInteger("soak.keepalived", 10);
        long watchIdle = Long.getLong("soak.watch", 0);
        long watchLoad = Long.getLong("soak.watch.load", watchIdle);
        List<Scenario> scenarios = java.util.Arrays.stream(System.getProperty("soak.scenarios", "").split(","))
                .filter(x -> !x.isBlank()).map(x -> Scenario.valueOf(x.trim().toUpperCase())).toList();
        if (scenarios.isEmpty()) {
            scenarios = List.of(Scenario.values());
        }
        // The watch under load needs wrk in the client's namespace: installed with the lab's tools.
        Lab.assumeLabPossible(watchLoad > 0 ? new String[]{"wrk"} : new String[0]);
        boolean keepalived = keepalivedRuns > 0 && keepalivedAvailable();
        WeldrLab.Settings settings = WeldrLab.Settings.defaults();
        Random random = new Random(settings.seed());
        long started = System.currentTimeMillis();
        System.out.printf("[faults] soak: %d nodes, %d cycles of %d scenarios, %d random schedules, election timeout %d ms, seed %d%n",
                nodes, cycles, scenarios.size(), schedules, settings.election().toMillis(), settings.seed());
        Map<String, List<ScenarioRun.Report>> byScenario = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        List<KeepalivedComparison.Round> rounds = new ArrayList<>();
        List<ElectionWatch.Phase> watched = new ArrayList<>();
        try (WeldrLab w = WeldrLab.start(nodes, 1, settings, Path.of("target", "faults"))) {
            for (int cycle = 1; cycle <= Math.max(cycles, schedules); cycle++) {
                List<Scenario> order = new ArrayList<>(scenarios);
                Collections.shuffle(order, random);
                List<Runnable> runs = new ArrayList<>();
                if (cycle <= cycles) {
                    for (Scenario s : order) {
                        runs.add(() -> record(byScenario, problems, s.run(w, random, true)));
                    }
                }
                if (cycle <= schedules) {
                    runs.add(random.nextInt(runs.size() + 1), () -> record(byScenario, problems, Scenario.schedule(w, random)));
                }
                for (Runnable r : runs) {
                    try {
                        r.run();
                    } catch (AssertionError | RuntimeException e) {
                        problems.add("cycle " + cycle + ": " + e);
                        System.out.println("[faults] PROBLEM: " + e);
                    }
                }
                System.out.printf("[faults] cycle %d done after %.1f min%n", cycle, (System.currentTimeMillis() - started) / 60000.0);
            }
            if (watchIdle > 0 || watchLoad > 0) {
                try {
                    watched.addAll(ElectionWatch.run(w, watchIdle, watchLoad));
                    watched.stream().filter(p -> p.termAfter() != p.termBefore())
                            .forEach(p -> problems.add("spurious elections " + p));
                } catch (AssertionError | RuntimeException e) {
                    problems.add("the election watch: " + e);
                    System.out.println("[faults] PROBLEM in the election watch: " + e);
                }
            }
            if (keepalived) {
                w.nodes.forEach(LabNode::stop);
                try (KeepalivedComparison k = new KeepalivedComparison(w.lab, w.agent, w.lab.hosts.subList(0, nodes), settings)) {
                    rounds.addAll(k.run(keepalivedRuns));
                } catch (AssertionError | RuntimeException e) {
                    problems.add("the keepalived comparison: " + e);
                    System.out.println("[faults] PROBLEM in the keepalived comparison: " + e);
                }
            }
        } finally {
            summary(byScenario, rounds, settings, nodes, started);
            watched.forEach(p -> System.out.println("[faults] spurious-election watch, " + p));
        }
        assertTrue(problems.isEmpty(), problems.size() + " problems:\n" + String.join("\n", problems));
    }

    private static boolean keepalivedAvailable() {
        try {
            Lab.assumeLabPossible("keepalived");
            return true;
        } catch (org.opentest4j.TestAbortedException e) {
            System.out.println("[faults] keepalived comparison skipped: " + e.getMessage());
            return false;
        }
    }

    private static void record(Map<String, List<ScenarioRun.Report>> byScenario, List<String> problems, ScenarioRun.Report r) {
        System.out.print(r.text());
        byScenario.computeIfAbsent(r.scenario(), k -> new ArrayList<>()).add(r);
        r.problems().forEach(p -> problems.add(r.scenario() + ": " + p));
    }

    private static void summary(Map<String, List<ScenarioRun.Report>> byScenario, List<KeepalivedComparison.Round> rounds,
                                WeldrLab.Settings settings, int nodes, long started) {
        System.out.printf("%n[faults] ==== soak summary: %d weldr nodes, election timeout %d ms, %.0f min ====%n", nodes,
                settings.election().toMillis(), (System.currentTimeMillis() - started) / 60000.0);
        System.out.printf("[faults] %-62s %5s %22s %22s %9s %9s %12s%n", "scenario", "runs", "client gap med/max (s)",
                "failed req. med/max", "writes ok", "unknown", "2 VIP holders");
        for (Map.Entry<String, List<ScenarioRun.Report>> e : byScenario.entrySet()) {
            List<ScenarioRun.Report> rs = e.getValue();
            System.out.printf("[faults] %-62s %5d %22s %22s %9d %9d %12d%n", e.getKey(), rs.size(),
                    medMax(rs, ScenarioRun.Report::longestGap, true), medMax(rs, r -> r.failed(), false),
                    rs.stream().mapToInt(r -> r.writes().ok()).sum(), rs.stream().mapToInt(r -> r.writes().unknown()).sum(),
                    rs.stream().mapToInt(r -> r.vip().twoLive()).sum());
        }
        List<ScenarioRun.Report> kills = byScenario.getOrDefault(Scenario.KILL_LEADER.title, List.of());
        List<ScenarioRun.Report> graceful = byScenario.getOrDefault(Scenario.GRACEFUL_RESTART.title, List.of());
        List<ScenarioRun.Report> rolling = byScenario.getOrDefault(Scenario.ROLLING_RESTART.title, List.of());
        System.out.printf("[faults] weldr, kill -9 of the leader: client gap on the VIP median/max %s s over %d runs%n",
                medMax(kills, r -> r.gaps().getOrDefault("kill", 0L), true), kills.size());
        List<Failover> breakdowns = kills.stream().map(ScenarioRun.Report::failover).filter(java.util.Objects::nonNull).toList();
        if (!breakdowns.isEmpty()) {
            StringBuilder b = new StringBuilder();
            for (String stage : Failover.STAGES) {
                List<Long> at = breakdowns.stream().map(f -> f.stages().get(stage)).filter(v -> v >= 0).sorted().toList();
                List<Long> step = breakdowns.stream().map(f -> f.steps().get(stage)).filter(v -> v >= 0).sorted().toList();
                b.append(String.format("%n[faults]   %-8s at %s ms after the kill, its own step %s ms", stage, medMaxOf(at, false),
                        medMaxOf(step, false)));
            }
            System.out.printf("[faults] weldr, kill -9 of the leader, where the gap goes (median / max over %d runs):%s%n",
                    breakdowns.size(), b);
        }
        System.out.printf("[faults] weldr, graceful restart of the leader: failed requests %s (median/max), gap %s s%n",
                medMax(graceful, r -> r.failed(), false), medMax(graceful, r -> r.gaps().getOrDefault("SIGTERM", 0L), true));
        System.out.printf("[faults] weldr, rolling restart: failed requests %s (median/max)%n", medMax(rolling, r -> r.failed(), false));
        int calls = byScenario.values().stream().flatMap(List::stream).mapToInt(ScenarioRun.Report::calls).sum();
        long bad = byScenario.values().stream().flatMap(List::stream).filter(r -> !r.verdict().ok()).count();
        long two = byScenario.values().stream().flatMap(List::stream).mapToInt(r -> r.vip().twoLive()).sum();
        System.out.printf("[faults] weldr, every run: %d calls checked, %d histories not linearizable, %d samples with two live VIP holders%n",
                calls, bad, two);
        if (!rounds.isEmpty()) {
            List<Long> kg = rounds.stream().filter(r -> r.fault().startsWith("kill")).map(KeepalivedComparison.Round::gapMs).sorted().toList();
            List<Long> sg = rounds.stream().filter(r -> r.fault().startsWith("SIGTERM")).map(KeepalivedComparison.Round::gapMs).sorted().toList();
            System.out.printf("[faults] keepalived 2.2 (advert_int 1), kill -9 of the MASTER: client gap median/max %s s over %d runs%n",
                    medMaxOf(kg, true), kg.size());
            System.out.printf("[faults] keepalived 2.2 (advert_int 1), SIGTERM of the MASTER: client gap median/max %s s, failed requests %s%n",
                    medMaxOf(sg, true), medMaxOf(rounds.stream().filter(r -> r.fault().startsWith("SIGTERM")).map(r -> (long) r.failed()).sorted().toList(), false));
            long twoKa = rounds.stream().mapToInt(r -> r.vip().twoLive()).sum();
            System.out.printf("[faults] keepalived: %d samples with two live VIP holders%n", twoKa);
        }
    }

    private static String medMax(List<ScenarioRun.Report> rs, ToLongFunction<ScenarioRun.Report> f, boolean seconds) {
        return medMaxOf(rs.stream().map(f::applyAsLong).sorted().toList(), seconds);
    }

    /** "median / max" of sorted values: milliseconds shown as seconds, or plain counts. */
    private static String medMaxOf(List<Long> sorted, boolean seconds) {
        if (sorted.isEmpty()) {
            return "-";
        }
        double median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2.0;
        long max = sorted.get(sorted.size() - 1);
        return seconds ? String.format("%.2f / %.2f", median / 1000.0, max / 1000.0)
                : (median == Math.rint(median) ? Long.toString((long) median) : Double.toString(median)) + " / " + max;
    }
}
