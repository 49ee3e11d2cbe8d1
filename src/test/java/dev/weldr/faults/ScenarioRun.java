package dev.weldr.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One run of one scenario: the cluster made whole with a pool of just the base servers, the client
 * probing and the writer writing, the fault, the cluster made whole again, and the checks. The
 * report carries the figures (printed) and the problems (asserted by the caller):
 * <ul>
 *   <li>the writer's history, with a consistent and a local read of every node once healed, is
 *       linearizable for a set: no acknowledged write lost, no server that no call created;</li>
 *   <li>no sample has two hosts holding the VIP while their weldr runs;</li>
 *   <li>the cluster becomes whole again (one leader, the VIP on its host, the client served);</li>
 *   <li>no call got an answer the contract does not allow (a 4xx to a valid call, a 5xx other than 503);</li>
 *   <li>where the scenario kills nodes with SIGKILL, their hosts lose the VIP within 10 s (weldr's guard).</li>
 * </ul>
 */
public final class ScenarioRun {

    /** What a run found. Times in ms. */
    public record Report(String scenario, int nodes, long durationMs, int probes, int failed, Map<String, Long> failures, long longestGap,
                         Map<String, Long> gaps, Writer.Counts writes, SetLinearizability.Verdict verdict, int calls,
                         VipSampler.Summary vip, List<String> events, List<String> problems, Failover failover) {

        public String text() {
            StringBuilder b = new StringBuilder();
            b.append(String.format("[faults] %s — %d nodes, %.1f s%n", scenario, nodes, durationMs / 1000.0));
            b.append("  events: ").append(String.join(" | ", events)).append('\n');
            b.append(String.format("  client: %d probes through the VIP, %d failed%s, longest gap %s%s%n", probes, failed,
                    failures.isEmpty() ? "" : " " + failures, secs(longestGap),
                    gaps.entrySet().stream().map(e -> "; after " + e.getKey() + ": " + secs(e.getValue())).collect(Collectors.joining())));
            b.append("  writer: ").append(writes).append("; ")
                    .append(verdict.ok() ? "linearizable" : "NOT LINEARIZABLE").append(" (").append(calls)
                    .append(" calls in the history, ").append(verdict.steps()).append(" search steps)\n");
            b.append("  VIP: ").append(vip).append('\n');
            if (failover != null) {
                b.append("  failover: ").append(failover).append('\n');
            }
            for (String p : problems) {
                b.append("  PROBLEM: ").append(p.replace("\n", "\n    ")).append('\n');
            }
            return b.toString();
        }
    }

    static String secs(long ms) {
        return String.format("%.2f s", ms / 1000.0);
    }

    final WeldrLab w;
    final String name;
    final Random random;
    final SetHistory history = new SetHistory();
    private final List<String> events = new ArrayList<>();
    private final Map<String, Long> marks = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private long t0;
    /** A fail-over to break down at the end: the kill's mark, the survivors' logs, the new leader and its log. */
    private record Noted(String mark, List<java.nio.file.Path> survivorLogs, String leader, java.nio.file.Path leaderLog) {
    }
    private Noted failover;

    ScenarioRun(WeldrLab w, String name, Random random) {
        this.w = w;
        this.name = name;
        this.random = random;
    }

    /** Notes something that happened, with its time since the start of the run. */
    public void event(String what) {
        String e = String.format("+%.1f %s", (System.currentTimeMillis() - t0) / 1000.0, what);
        synchronized (events) {
            events.add(e);
        }
        if (Boolean.getBoolean("faults.verbose")) {
            System.out.println("[faults]   " + name + " " + e);
        }
    }

    /** Notes something the contract does not allow; the run goes on, and fails at the end. */
    public void problem(String what) {
        problems.add(what);
        event("PROBLEM: " + what);
    }

    /**
     * After {@code kill -9} of these nodes: waits until none of their hosts holds the VIP (each
     * node's guard removes it when its JVM dies), reports how long that took, and reports a
     * problem if an address stays for {@code timeout}.
     */
    public void awaitVipGoneFrom(List<LabNode> killed, long killedAt, Duration timeout) {
        long deadline = killedAt + timeout.toMillis();
        List<LabNode> holding = killed;
        while (!(holding = holding.stream().filter(n -> n.host.holdsVip()).toList()).isEmpty()
                && System.currentTimeMillis() < deadline) {
            WeldrLab.sleep(10);
        }
        if (holding.isEmpty()) {
            event("the VIP is gone from " + killed + " (" + (System.currentTimeMillis() - killedAt) + " ms after the kill)");
        } else {
            problem(holding + " still held the VIP " + timeout.toSeconds() + " s after weldr was killed there");
        }
    }

    /** Notes a moment whose effect on the client is reported (the client's longest gap in the 15 s after it). */
    public long mark(String key) {
        long now = System.currentTimeMillis();
        marks.putIfAbsent(key, now);
        return now;
    }

    /** Waits until the client was served through the VIP by a request it started after {@code since}. */
    public void awaitClientServed(long since, Duration timeout) {
        WeldrLab.await(timeout, () -> w.agent.probes(since, System.currentTimeMillis()).stream()
                .anyMatch(p -> p.ok() && p.start() > since), "the client to be served through the VIP again");
    }

    /**
     * After {@code kill -9} of the leader (at mark {@code key}), once {@code next} leads and the
     * client was served: waits for the new leader to log the VIP taken, and notes the fail-over, whose
     * breakdown ({@link Failover}) the report carries.
     */
    public void noteFailover(String key, List<LabNode> survivors, LabNode next) {
        long at = marks.get(key);
        try {
            WeldrLab.await(Duration.ofSeconds(10), () -> Failover.vipLogged(next, at), next + " to log the VIP taken");
        } catch (AssertionError e) {
            event("no fail-over breakdown: " + e.getMessage());
            return;
        }
        failover = new Noted(key, survivors.stream().map(LabNode::log).toList(), next.name(), next.log());
    }

    public interface Fault {
        void perform(ScenarioRun run) throws Exception;
    }

    public Report run(Fault fault) {
        WeldrLab.Settings s = w.settings;
        w.lab.heal();
        w.startDead();
        w.awaitWhole(Duration.ofSeconds(120));
        w.resetPool();
        t0 = System.currentTimeMillis();
        w.agent.forgetProbes(t0 - 60_000);
        Writer writer = new Writer(w.agent, history, () -> List.copyOf(w.nodes), w.universe, random.nextLong(),
                s.writers(), s.writerPauseMs());
        writer.start();
        WeldrLab.sleep(1500);
        try {
            fault.perform(this);
        } catch (Exception | AssertionError e) {
            problems.add("the scenario could not go on: " + e);
        }
        w.lab.heal();
        w.startDead();
        event("healed, every node running");
        try {
            w.awaitWhole(Duration.ofSeconds(90));
            event("whole again");
        } catch (AssertionError e) {
            problems.add(e.getMessage());
        }
        WeldrLab.sleep(1500);
        writer.stop();
        event("writer stopped");
        try {
            w.awaitConverged(Duration.ofSeconds(30));
            for (LabNode n : w.nodes) {
                Agent.Reply c = w.agent.http("GET", n.admin() + "/servers?consistent=true", null, 5000);
                if (c.status() == 200) {
                    history.read("final@" + n, Writer.ids(c.body()), c.call(), c.ret());
                }
                Agent.Reply l = w.agent.http("GET", n.admin() + "/servers", null, 5000);
                if (l.status() == 200) {
                    history.read("final-local@" + n, Writer.ids(l.body()), l.call(), l.ret());
                }
            }
        } catch (AssertionError e) {
            problems.add(e.getMessage());
        }
        long t1 = System.currentTimeMillis();

        SetLinearizability.Verdict verdict = SetLinearizability.check(w.base, history.ops());
        if (!verdict.ok()) {
            StringBuilder why = new StringBuilder(verdict.explanation());
            // A call answered as failed whose server shows up anyway was applied: name it.
            for (SetHistory.Failed f : history.failed()) {
                if (verdict.explanation().contains(f.element())) {
                    why.append("\nthe call on ").append(f.element()).append(" was answered as failed: ").append(f);
                }
            }
            problems.add("the writer's history is not linearizable:\n" + why);
        }
        writer.oddAnswers().forEach(a -> problems.add("an answer the contract does not allow: " + a));
        VipSampler.Summary vip = w.sampler.summary(t0, t1);
        if (vip.twoLive() > 0) {
            problems.add("two hosts held the VIP while their weldr ran, in " + vip.twoLive() + " samples (longest overlap "
                    + vip.longestTwoLiveMs() + " ms), first " + vip.firstTwoLive());
        }
        List<Agent.Probe> probes = w.agent.probes(t0, t1);
        Map<String, Long> gaps = new LinkedHashMap<>();
        marks.forEach((k, at) -> gaps.put(k, gapAfter(probes, at, 15_000)));
        List<String> ev;
        synchronized (events) {
            ev = List.copyOf(events);
        }
        Map<String, Long> failures = probes.stream().filter(p -> !p.ok())
                .collect(Collectors.groupingBy(p -> p.status() > 0 ? "HTTP " + p.status() : p.kind(), java.util.TreeMap::new, Collectors.counting()));
        Failover f = failover == null ? null : Failover.of(marks.get(failover.mark()), failover.survivorLogs(), failover.leader(),
                failover.leaderLog(), probes, gaps.getOrDefault(failover.mark(), -1L));
        Report r = new Report(name, w.nodes.size(), t1 - t0, probes.size(), (int) probes.stream().filter(p -> !p.ok()).count(),
                failures, longestGap(probes), gaps, writer.counts(), verdict, history.ops().size(), vip, ev, List.copyOf(problems), f);
        if (!problems.isEmpty()) {
            dump(r);
        }
        return r;
    }

    private void dump(Report r) {
        try {
            String file = name.replaceAll("[^A-Za-z0-9]+", "-") + "-" + t0 + ".txt";
            StringBuilder b = new StringBuilder(r.text()).append("\nhistory:\n");
            history.ops().forEach(op -> b.append(op).append('\n'));
            b.append("\ncalls that definitely failed (not in the history):\n");
            history.failed().forEach(f -> b.append(f).append('\n'));
            Files.writeString(w.lab.dir.resolve(file), b);
            problems.add("details in " + w.lab.dir.resolve(file));
        } catch (IOException e) {
            // the report itself is printed
        }
    }

    /** The longest time between two consecutive successful answers (by the time they came back). */
    static long longestGap(List<Agent.Probe> probes) {
        List<Long> ok = probes.stream().filter(Agent.Probe::ok).map(Agent.Probe::end).sorted().toList();
        long gap = 0;
        for (int i = 1; i < ok.size(); i++) {
            gap = Math.max(gap, ok.get(i) - ok.get(i - 1));
        }
        return gap;
    }

    /** The longest time between consecutive successful answers over [t, t + window]. */
    static long gapAfter(List<Agent.Probe> probes, long t, long window) {
        List<Long> ok = probes.stream().filter(Agent.Probe::ok).map(Agent.Probe::end).sorted().toList();
        long gap = 0;
        for (int i = 1; i < ok.size(); i++) {
            if (ok.get(i) > t && ok.get(i - 1) < t + window) {
                gap = Math.max(gap, ok.get(i) - ok.get(i - 1));
            }
        }
        return gap;
    }

    static Set<String> hostsOf(List<LabNode> nodes) {
        return nodes.stream().map(LabNode::name).collect(Collectors.toCollection(java.util.TreeSet::new));
    }
}
