package dev.weldr.faults;

import dev.weldr.faults.SetHistory.Op;
import dev.weldr.faults.SetHistory.Result;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static dev.weldr.faults.SetHistory.PENDING;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker on histories whose verdict is known: right ones pass, each kind of wrong one fails. */
class SetLinearizabilityTest {

    private static SetLinearizability.Verdict check(SetHistory h) {
        return SetLinearizability.check(Set.of(), h.ops());
    }

    private static void assertLinearizable(SetHistory h) {
        SetLinearizability.Verdict v = check(h);
        assertTrue(v.ok(), v.explanation());
    }

    private static void assertNotLinearizable(SetHistory h, String why) {
        SetLinearizability.Verdict v = check(h);
        assertFalse(v.ok(), "expected a violation");
        assertTrue(v.decided(), v.explanation());
        assertTrue(v.explanation().contains(why), v.explanation());
    }

    @Test
    void shouldAcceptASequentialHistory() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.read("w1", Set.of("a"), 11, 12);
        h.add("w1", "a", Result.NOOP, 13, 14);
        h.remove("w1", "a", Result.OK, 15, 20);
        h.read("w1", Set.of(), 21, 22);
        h.remove("w1", "a", Result.NOOP, 23, 24);
        assertLinearizable(h);
    }

    @Test
    void shouldLetAReadConcurrentWithAnAddSeeItOrNot() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.read("r1", Set.of("a"), 2, 5);
        h.read("r2", Set.of(), 3, 12);
        assertLinearizable(h);
    }

    @Test
    void shouldLetAnUnknownOutcomeTakeEffectLateOrNever() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.UNKNOWN, 0, PENDING);
        h.read("r", Set.of(), 10, 11);
        h.read("r", Set.of("a"), 20, 21); // applied after the first read (a commit can come late)
        h.add("w1", "b", Result.UNKNOWN, 30, PENDING);
        h.read("r", Set.of("a"), 40, 41); // never applied
        h.remove("w1", "a", Result.UNKNOWN, 50, PENDING);
        h.read("r", Set.of(), 60, 61);
        assertLinearizable(h);
    }

    @Test
    void shouldCountCallsThatEndAndStartInTheSameInstantAsConcurrent() {
        SetHistory h = new SetHistory();
        h.read("r", Set.of("a"), 0, 10);
        h.add("w", "a", Result.OK, 10, 20);
        assertLinearizable(h);
    }

    @Test
    void shouldFindALostAcknowledgedAdd() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.add("w1", "b", Result.OK, 11, 20);
        h.read("r", Set.of("b"), 21, 25);
        assertNotLinearizable(h, "lost acknowledged write");
    }

    @Test
    void shouldFindAPhantomServer() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.read("r", Set.of("a", "ghost"), 21, 25);
        assertNotLinearizable(h, "phantom server");
    }

    @Test
    void shouldFindAServerSeenBeforeItsAddWasInvoked() {
        SetHistory h = new SetHistory();
        h.read("r", Set.of("a"), 0, 5);
        h.add("w1", "a", Result.UNKNOWN, 6, PENDING);
        assertNotLinearizable(h, "phantom server");
    }

    @Test
    void shouldFindARemovedServerThatComesBack() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.remove("w1", "a", Result.OK, 11, 20);
        h.read("r", Set.of("a"), 21, 25);
        assertNotLinearizable(h, "removed server came back");
    }

    @Test
    void shouldFindAStaleReadAfterAFresherOne() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.UNKNOWN, 0, PENDING);
        h.read("r1", Set.of("a"), 10, 11);
        h.read("r2", Set.of(), 12, 13);
        assertNotLinearizable(h, "reads out of order on a");
    }

    @Test
    void shouldRefuseAnAddAcknowledgedTwice() {
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 10);
        h.add("w2", "a", Result.OK, 11, 20);
        assertNotLinearizable(h, "cannot place");
    }

    @Test
    void shouldRefuseARemoveOfAServerNeverAdded() {
        SetHistory h = new SetHistory();
        h.remove("w1", "a", Result.OK, 0, 10);
        assertNotLinearizable(h, "cannot place");
    }

    @Test
    void shouldRefuseTwoReadsThatCannotBothBeSnapshotsOfOneSet() {
        // Each server alone is fine; together no order exists: the reads would each have to come
        // before the other's add. Only the search over the whole history sees it.
        SetHistory h = new SetHistory();
        h.add("w1", "a", Result.OK, 0, 100);
        h.add("w2", "b", Result.OK, 0, 100);
        h.read("r1", Set.of("a"), 10, 90);
        h.read("r2", Set.of("b"), 10, 90);
        assertTrue(SetLinearizability.explain(Set.of(), h.ops()).isEmpty(), "no single rule fires");
        assertNotLinearizable(h, "no order of the calls explains the answers");
    }

    @Test
    void shouldStartFromTheInitialSet() {
        SetHistory h = new SetHistory();
        h.read("r", Set.of("base"), 0, 1);
        h.remove("w", "base", Result.OK, 2, 3);
        h.read("r", Set.of(), 4, 5);
        assertTrue(SetLinearizability.check(Set.of("base"), h.ops()).ok());
        assertFalse(SetLinearizability.check(Set.of(), h.ops()).ok());
    }

    /** Random histories of a real atomic set with concurrent clients and lost answers are accepted. */
    @Test
    void shouldAcceptRandomHistoriesOfAnAtomicSet() {
        for (long seed = 1; seed <= 40; seed++) {
            SetHistory h = simulate(new Random(seed), 4, 400, false);
            SetLinearizability.Verdict v = check(h);
            assertTrue(v.ok(), "seed " + seed + ": " + v.explanation());
        }
    }

    /** The same histories with one acknowledged add dropped from the set behind the client's back fail. */
    @Test
    void shouldRefuseRandomHistoriesWithALostWrite() {
        int refused = 0;
        for (long seed = 1; seed <= 40; seed++) {
            SetHistory h = simulate(new Random(seed), 4, 400, true);
            if (!check(h).ok()) {
                refused++;
            }
        }
        // A loss is only visible if a later read shows it; nearly every run has one.
        assertTrue(refused >= 35, "only " + refused + " of 40 corrupted histories refused");
    }

    /**
     * Clients on a real set: each call takes effect at one instant inside its interval; some answers
     * are lost (unknown outcome). With {@code lose}, the set forgets one acknowledged add once.
     */
    private static SetHistory simulate(Random rnd, int clients, int calls, boolean lose) {
        record Call(String client, int kind, String element, long call, long point, long ret, boolean unknown) {
        }
        List<Call> planned = new ArrayList<>();
        long[] free = new long[clients];
        int next = 0;
        List<String> added = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            int c = rnd.nextInt(clients);
            long call = free[c] + rnd.nextInt(20);
            long ret = call + 1 + rnd.nextInt(60);
            long point = call + rnd.nextInt((int) (ret - call) + 1);
            int kind = rnd.nextInt(10);
            String element = null;
            if (kind < 4) {
                element = "s" + next++;
                added.add(element);
            } else if (kind < 7 && !added.isEmpty()) {
                element = added.get(rnd.nextInt(added.size()));
            } else {
                kind = 9;
            }
            boolean unknown = kind != 9 && rnd.nextInt(12) == 0;
            planned.add(new Call("c" + c, kind < 4 ? 0 : kind < 7 ? 1 : 2, element, call, point, ret, unknown));
            free[c] = ret;
        }
        // Apply in the order of the instants at which the calls take effect.
        List<Call> byPoint = new ArrayList<>(planned);
        byPoint.sort((a, b) -> Long.compare(a.point, b.point));
        TreeSet<String> set = new TreeSet<>();
        record Answer(Result result, Set<String> read) {
        }
        java.util.Map<Call, Answer> answers = new java.util.HashMap<>();
        boolean lost = !lose;
        for (Call c : byPoint) {
            switch (c.kind) {
                case 0 -> {
                    if (c.unknown && rnd.nextBoolean()) {
                        answers.put(c, new Answer(Result.UNKNOWN, null)); // never applied
                    } else {
                        boolean added1 = set.add(c.element);
                        answers.put(c, new Answer(c.unknown ? Result.UNKNOWN : added1 ? Result.OK : Result.NOOP, null));
                        if (!lost && added1 && !c.unknown && rnd.nextInt(3) == 0) {
                            set.remove(c.element); // the bug: acknowledged, then forgotten
                            lost = true;
                        }
                    }
                }
                case 1 -> {
                    if (c.unknown && rnd.nextBoolean()) {
                        answers.put(c, new Answer(Result.UNKNOWN, null));
                    } else {
                        boolean removed = set.remove(c.element);
                        answers.put(c, new Answer(c.unknown ? Result.UNKNOWN : removed ? Result.OK : Result.NOOP, null));
                    }
                }
                default -> answers.put(c, new Answer(Result.OK, new TreeSet<>(set)));
            }
        }
        SetHistory h = new SetHistory();
        planned.sort((a, b) -> Long.compare(a.call, b.call));
        for (Call c : planned) {
            Answer a = answers.get(c);
            long ret = a.result == Result.UNKNOWN ? PENDING : c.ret;
            switch (c.kind) {
                case 0 -> h.add(c.client, c.element, a.result, c.call, ret);
                case 1 -> h.remove(c.client, c.element, a.result, c.call, ret);
                default -> h.read(c.client, a.read, c.call, c.ret);
            }
        }
        long end = planned.stream().mapToLong(Call::ret).max().orElse(0) + 1;
        h.read("final", new TreeSet<>(set), end, end + 1);
        return h;
    }
}
