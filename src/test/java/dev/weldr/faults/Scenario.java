package dev.weldr.faults;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The faults of the suite. Each one acts on the running cluster and leaves it to
 * {@link ScenarioRun} to heal the network, start what is not running and check the outcome.
 * {@code randomTargets} picks a random node where the short suite picks the leader (the soak).
 */
public enum Scenario {

    KILL_LEADER("kill -9 of the leader") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            long at = run.mark("kill");
            run.event("kill -9 " + l + " (leader)");
            l.kill();
            run.awaitVipGoneFrom(List.of(l), at, Duration.ofSeconds(10));
            LabNode next = w.awaitLeader(Duration.ofSeconds(60));
            run.event(next + " leads");
            run.awaitClientServed(at, Duration.ofSeconds(60));
            run.event("client served again");
            run.noteFailover("kill", w.followers(l), next);
            WeldrLab.sleep(1000);
            l.start();
            run.event("restarted " + l);
        }
    },

    GRACEFUL_RESTART("graceful restart of the leader") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            run.mark("SIGTERM");
            run.event("SIGTERM " + l + " (leader)");
            int code = l.stop();
            run.event(l + " exited with " + code);
            l.start();
            run.event("restarted " + l);
        }
    },

    ISOLATE_LEADER("leader isolated, then healed") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            long at = run.mark("cut");
            w.lab.isolate(l.host);
            run.event("cut " + l + " (leader) off");
            LabNode next = w.awaitLeader(Duration.ofSeconds(60));
            run.event(next + " leads");
            run.awaitClientServed(at, Duration.ofSeconds(60));
            run.event("client served again");
            sleepUntil(at + hold(w));
            run.mark("heal");
            w.lab.heal();
            run.event("healed");
        }
    },

    PARTITION_AND_LOSS("minority/majority partition, then 20 % frame loss on one node") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            List<LabNode> others = new ArrayList<>(w.followers(l));
            Collections.shuffle(others, run.random);
            int minoritySize = (w.nodes.size() - 1) / 2;
            List<LabNode> minority = new ArrayList<>();
            if (randomTargets && run.random.nextBoolean()) {
                minority.addAll(others.subList(0, 1 + run.random.nextInt(minoritySize))); // the leader keeps its majority
            } else {
                minority.add(l);
                minority.addAll(others.subList(0, minoritySize - 1));
            }
            List<LabNode> majority = new ArrayList<>(w.nodes);
            majority.removeAll(minority);
            long at = run.mark("partition");
            w.lab.partition(minority.stream().map(n -> n.host).toList(), majority.stream().map(n -> n.host).toList());
            run.event("partition " + minority + " | " + majority + " (leader " + l + "; the client reaches both sides)");
            if (minority.contains(l)) {
                WeldrLab.await(Duration.ofSeconds(60), () -> w.leader().filter(n -> n != l).isPresent(), "a leader on the majority side");
                run.event(w.awaitLeader(Duration.ofSeconds(10)) + " leads");
            }
            sleepUntil(at + hold(w));
            w.lab.heal();
            run.event("healed");
            w.awaitWhole(Duration.ofSeconds(60));
            run.event("whole again");
            LabNode victim = randomTargets ? w.nodes.get(run.random.nextInt(w.nodes.size())) : w.awaitLeader(Duration.ofSeconds(30));
            long lossAt = run.mark("loss");
            w.lab.loss(victim.host, 20);
            run.event("20 % frame loss on " + victim);
            sleepUntil(lossAt + 8000);
            w.lab.heal();
            run.event("healed");
        }
    },

    KILL_ALL("all nodes killed at once, then started") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            long at = run.mark("kill all");
            w.nodes.forEach(LabNode::killNow);
            w.nodes.forEach(LabNode::kill);
            run.event("kill -9 " + w.nodes);
            run.awaitVipGoneFrom(List.copyOf(w.nodes), at, Duration.ofSeconds(10));
            WeldrLab.sleep(1000);
            w.startDead();
            run.event("started " + w.nodes);
        }
    },

    ROLLING_RESTART("rolling restart of every node") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            List<LabNode> order = new ArrayList<>(w.followers(l));
            Collections.shuffle(order, run.random);
            // Followers first and the leader last, as an operator would; in any order in the soak.
            order.add(randomTargets ? run.random.nextInt(order.size() + 1) : order.size(), l);
            run.mark("first SIGTERM");
            for (LabNode n : order) {
                run.event("SIGTERM " + n + (n == l ? " (leader)" : ""));
                n.stop();
                n.start();
                w.awaitWhole(Duration.ofSeconds(90));
                run.event(n + " back, cluster whole");
            }
        }
    },

    MEMBERSHIP("a node added and another removed, during writes") {
        @Override
        void perform(ScenarioRun run, boolean randomTargets) {
            WeldrLab w = run.w;
            LabNode via = w.nodes.get(run.random.nextInt(w.nodes.size()));
            LabNode joiner = w.join(via);
            if (joiner == null) {
                throw new IllegalStateException("no spare host for a new node");
            }
            run.event("start " + joiner + " joining through " + via);
            WeldrLab.await(Duration.ofSeconds(90), () -> w.leader()
                    .flatMap(w::view).map(v -> v.members().contains(joiner.raftId())).orElse(false), joiner + " to be a member");
            w.nodes.add(joiner);
            run.event(joiner + " is a member");
            LabNode l = w.awaitLeader(Duration.ofSeconds(30));
            List<LabNode> candidates = new ArrayList<>(w.nodes);
            candidates.remove(joiner);
            LabNode victim = randomTargets ? candidates.get(run.random.nextInt(candidates.size())) : l;
            List<LabNode> rest = new ArrayList<>(w.nodes);
            rest.remove(victim);
            run.mark("remove");
            run.event("remove " + victim + (victim == l ? " (leader)" : ""));
            WeldrLab.retry(Duration.ofSeconds(60), () -> {
                LabNode through = rest.get(run.random.nextInt(rest.size()));
                Agent.Reply r = w.agent.http("DELETE", through.admin() + "/cluster/peers/" + victim.host.ip + "/" + LabNode.RAFT, null, 15_000);
                return r.status() == 204 || r.status() == 404;
            }, "removing " + victim);
            run.event(victim + " removed");
            w.retire(victim);
            run.event(victim + " stopped");
        }
    };

    public final String title;

    Scenario(String title) {
        this.title = title;
    }

    abstract void perform(ScenarioRun run, boolean randomTargets) throws Exception;

    /** One run of this scenario on the lab. */
    public ScenarioRun.Report run(WeldrLab w, Random random, boolean randomTargets) {
        ScenarioRun run = new ScenarioRun(w, title, random);
        return run.run(r -> perform(r, randomTargets));
    }

    /** How long a network fault lasts: long enough for an election and some writes on the other side. */
    static long hold(WeldrLab w) {
        return Math.max(6000, 5 * w.settings.election().toMillis());
    }

    static void sleepUntil(long epochMs) {
        long left = epochMs - System.currentTimeMillis();
        if (left > 0) {
            WeldrLab.sleep(left);
        }
    }

    /** A random schedule of faults (the soak): 2 to 4 of them, on random nodes, one after the other, healed only at the end. */
    public static ScenarioRun.Report schedule(WeldrLab w, Random random) {
        ScenarioRun run = new ScenarioRun(w, "random schedule", random);
        return run.run(r -> {
            int steps = 2 + random.nextInt(3);
            for (int i = 0; i < steps; i++) {
                randomStep(r, random);
                WeldrLab.sleep(500 + random.nextInt(3000));
            }
        });
    }

    private static void randomStep(ScenarioRun run, Random random) {
        WeldrLab w = run.w;
        LabNode n = w.nodes.get(random.nextInt(w.nodes.size()));
        switch (random.nextInt(7)) {
            case 0 -> {
                run.event("kill -9 " + n);
                n.kill();
                WeldrLab.sleep(random.nextInt(4000));
                n.start();
                run.event("restarted " + n);
            }
            case 1 -> {
                run.event("SIGTERM " + n);
                n.stop();
                n.start();
                run.event("restarted " + n);
            }
            case 2 -> {
                w.lab.isolate(n.host);
                run.event("cut " + n + " off");
                WeldrLab.sleep(2000 + random.nextInt(6000));
                w.lab.heal();
                run.event("healed");
            }
            case 3 -> {
                List<LabNode> shuffled = new ArrayList<>(w.nodes);
                Collections.shuffle(shuffled, random);
                List<LabNode> minority = shuffled.subList(0, 1 + random.nextInt((w.nodes.size() - 1) / 2));
                List<LabNode> majority = shuffled.subList(minority.size(), shuffled.size());
                w.lab.partition(minority.stream().map(m -> m.host).toList(), majority.stream().map(m -> m.host).toList());
                run.event("partition " + minority + " | " + majority);
                WeldrLab.sleep(2000 + random.nextInt(6000));
                w.lab.heal();
                run.event("healed");
            }
            case 4 -> {
                w.lab.loss(n.host, 20);
                run.event("20 % loss on " + n);
                WeldrLab.sleep(3000 + random.nextInt(5000));
                w.lab.heal();
                run.event("healed");
            }
            case 5 -> {
                w.nodes.forEach(LabNode::killNow);
                w.nodes.forEach(LabNode::kill);
                run.event("kill -9 all");
                WeldrLab.sleep(random.nextInt(2000));
                w.startDead();
                run.event("started all");
            }
            default -> {
                run.event("SIGTERM " + n + " and start it at once, twice");
                n.stop();
                n.start();
                WeldrLab.sleep(random.nextInt(3000));
                n.stop();
                n.start();
            }
        }
    }
}
