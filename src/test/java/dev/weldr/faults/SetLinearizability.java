package dev.weldr.faults;

import dev.weldr.faults.SetHistory.Kind;
import dev.weldr.faults.SetHistory.Op;
import dev.weldr.faults.SetHistory.Result;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Is a history of adds, removes and reads on one set linearizable? That is: can every call that
 * got an answer, and any subset of the calls whose outcome is unknown, be put in one order that
 * respects real time (a call that returned before another was invoked comes first) and in which
 * every answer is what a set would have answered?
 *
 * <p>The search is Wing and Gong's, with Lowe's memo of (calls linearized, state) pairs: walk the
 * calls in invocation order, linearize the first one the model allows, and backtrack when a call's
 * return is reached before it was linearized. A call with an unknown outcome has no return, so it
 * can stay unlinearized to the end: it never took effect.
 *
 * <p>Before the search, plain rules name the usual culprits one by one (an acknowledged add that a
 * later read misses, a server no call created, a removed server that comes back, a read older than
 * an earlier one); each of them alone proves the history wrong, and they make a failure readable.
 */
public final class SetLinearizability {

    public record Verdict(boolean ok, boolean decided, List<String> problems, long steps) {
        public String explanation() {
            return String.join("\n", problems);
        }
    }

    private SetLinearizability() {
    }

    public static Verdict check(Set<String> initial, List<Op> history) {
        return check(initial, history, 20_000_000L);
    }

    public static Verdict check(Set<String> initial, List<Op> history, long maxSteps) {
        List<String> problems = explain(initial, history);
        Search search = new Search(initial, simplify(initial, history));
        Boolean ok = search.run(maxSteps);
        if (ok == null) {
            problems.add(0, "the search gave up after " + maxSteps + " steps: linearizability undecided");
            return new Verdict(false, false, problems, search.steps);
        }
        if (!ok && problems.isEmpty()) {
            problems.add(search.stuck());
        }
        if (ok && !problems.isEmpty()) {
            // The rules are sound: if one fires, no order exists. Both agreeing is part of the check.
            problems.add(0, "internal error: the search found an order although these rules say none exists");
            return new Verdict(false, true, problems, search.steps);
        }
        return new Verdict(ok, true, problems, search.steps);
    }

    // ---- Rules, each a sufficient condition for "not linearizable" ----------------------------

    private static boolean effective(Op op) {
        return op.result() == Result.OK || op.result() == Result.UNKNOWN;
    }

    static List<String> explain(Set<String> initial, List<Op> history) {
        List<String> problems = new ArrayList<>();
        Map<String, List<Op>> adds = new HashMap<>();
        Map<String, List<Op>> removes = new HashMap<>();
        List<Op> reads = new ArrayList<>();
        for (Op op : history) {
            switch (op.kind()) {
                case ADD -> adds.computeIfAbsent(op.element(), k -> new ArrayList<>()).add(op);
                case REMOVE -> removes.computeIfAbsent(op.element(), k -> new ArrayList<>()).add(op);
                case READ -> reads.add(op);
            }
        }
        Set<String> reported = new HashSet<>();
        for (Op r : reads) {
            for (String x : r.read()) {
                boolean couldBeThere = initial.contains(x) || adds.getOrDefault(x, List.of()).stream()
                        .anyMatch(a -> effective(a) && a.call() <= r.ret());
                if (!couldBeThere && reported.add("phantom " + x)) {
                    problems.add("phantom server: " + r + " lists " + x
                            + (adds.containsKey(x) ? ", which no add invoked before that read could have created" : ", which no call ever added"));
                }
            }
        }
        List<Op> allAdds = adds.values().stream().flatMap(List::stream).filter(a -> a.result() == Result.OK).toList();
        List<Op> allRemoves = removes.values().stream().flatMap(List::stream).filter(d -> d.result() == Result.OK).toList();
        for (Op r : reads) {
            // An acknowledged add, complete before the read began, and no remove that could come in between.
            for (Op a : allAdds) {
                if (a.result() != Result.OK || a.ret() >= r.call() || r.read().contains(a.element())) {
                    continue;
                }
                boolean removable = removes.getOrDefault(a.element(), List.of()).stream()
                        .anyMatch(d -> effective(d) && d.call() <= r.ret() && d.ret() >= a.call());
                if (!removable && reported.add("lost " + a.element())) {
                    problems.add("lost acknowledged write: " + a + " is missing from the later " + r);
                }
            }
            // An acknowledged remove, complete before the read began, and no add that could come after it.
            for (Op d : allRemoves) {
                if (d.result() != Result.OK || d.ret() >= r.call() || !r.read().contains(d.element())) {
                    continue;
                }
                boolean readdable = adds.getOrDefault(d.element(), List.of()).stream()
                        .anyMatch(a -> effective(a) && a.call() <= r.ret() && a.ret() >= d.call());
                if (!readdable && reported.add("resurrected " + d.element())) {
                    problems.add("removed server came back: " + d + ", yet the later " + r + " lists it");
                }
            }
        }
        // Two reads in real-time order that disagree on x with no change of x that could fall between them.
        Set<String> elements = new LinkedHashSet<>(initial);
        elements.addAll(adds.keySet());
        elements.addAll(removes.keySet());
        for (String x : elements) {
            List<Op> with = reads.stream().filter(r -> r.read().contains(x)).toList();
            List<Op> without = reads.stream().filter(r -> !r.read().contains(x)).toList();
            Op[] pair = outOfOrder(with, without, removes.getOrDefault(x, List.of()));
            String change = "remove";
            if (pair == null) {
                pair = outOfOrder(without, with, adds.getOrDefault(x, List.of()));
                change = "add";
            }
            if (pair != null) {
                problems.add("reads out of order on " + x + ": " + pair[0] + " then " + pair[1]
                        + " with no " + change + " of it that could fall in between");
            }
        }
        return problems;
    }

    /**
     * A read of {@code firsts} that returned before a read of {@code seconds} was invoked, with no
     * effective change that could fall between them ({@code c.call <= r2.ret && c.ret >= r1.call}),
     * or null. For each r2 the best r1 is the one invoked last among those that returned before r2
     * began: found by binary search over the firsts sorted by return, with a running maximum.
     */
    private static Op[] outOfOrder(List<Op> firsts, List<Op> seconds, List<Op> changes) {
        if (firsts.isEmpty() || seconds.isEmpty()) {
            return null;
        }
        List<Op> byRet = new ArrayList<>(firsts);
        byRet.sort(Comparator.comparingLong(Op::ret));
        Op[] latestCall = new Op[byRet.size()];
        for (int i = 0; i < byRet.size(); i++) {
            Op r = byRet.get(i);
            latestCall[i] = i > 0 && latestCall[i - 1].call() >= r.call() ? latestCall[i - 1] : r;
        }
        for (Op r2 : seconds) {
            // The returns of reads that ended before r2 began: r.ret < r2.call.
            int lo = 0;
            int hi = byRet.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (byRet.get(mid).ret() < r2.call()) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if (lo == 0) {
                continue;
            }
            Op r1 = latestCall[lo - 1];
            boolean between = changes.stream().anyMatch(c -> effective(c) && c.call() <= r2.ret() && c.ret() >= r1.call());
            if (!between) {
                return new Op[]{r1, r2};
            }
        }
        return null;
    }

    // ---- Settling unknown outcomes that the rest of the history decides ------------------------

    /**
     * Calls with an unknown outcome stay open to the end of the history, and each one open doubles
     * what the search may have to try. Most are decided by the history itself. For a server with
     * one add (the writer never adds a server twice):
     * <ul>
     *   <li>an unknown add that nothing after its invocation sees (no read lists the server, no
     *       remove of it succeeds) may as well never have happened: it is left out;</li>
     *   <li>an unknown add that something sees did happen, before the first thing that saw it: it
     *       becomes an acknowledged add returning when that observer returned (no new constraint:
     *       everything invoked after that return comes after the observer anyway).</li>
     * </ul>
     * An unknown remove of a server that can never be present is left out, and so is one after
     * whose invocation nothing sees the server absent. Everything else stays open.
     */
    static List<Op> simplify(Set<String> initial, List<Op> history) {
        Map<String, Integer> addCount = new HashMap<>();
        Map<String, Integer> removeCount = new HashMap<>();
        for (Op op : history) {
            if (op.kind() == Kind.ADD) {
                addCount.merge(op.element(), 1, Integer::sum);
            } else if (op.kind() == Kind.REMOVE) {
                removeCount.merge(op.element(), 1, Integer::sum);
            }
        }
        List<Op> out = new ArrayList<>();
        Set<String> neverPresent = new HashSet<>();
        for (Op op : history) {
            if (op.kind() == Kind.ADD && op.pending() && addCount.get(op.element()) == 1 && !initial.contains(op.element())) {
                String x = op.element();
                long firstSeen = history.stream()
                        .filter(o -> o.ret() > op.call() && !o.pending())
                        .filter(o -> o.kind() == Kind.READ && o.read().contains(x)
                                || o.kind() == Kind.REMOVE && x.equals(o.element()) && o.result() == Result.OK)
                        .mapToLong(Op::ret).min().orElse(-1);
                if (firstSeen < 0) {
                    neverPresent.add(x);
                    continue;
                }
                out.add(new Op(op.id(), op.process(), op.kind(), x, Result.OK, null, op.call(), firstSeen));
                continue;
            }
            out.add(op);
        }
        List<Op> settled = new ArrayList<>();
        for (Op op : out) {
            if (op.kind() == Kind.REMOVE && op.pending() && removeCount.get(op.element()) == 1) {
                String x = op.element();
                boolean noAdd = addCount.getOrDefault(x, 0) == 0 && !initial.contains(x);
                if (noAdd || neverPresent.contains(x) && addCount.get(x) == 1) {
                    continue;
                }
                boolean seenAbsent = out.stream().anyMatch(o -> o.ret() > op.call() && !o.pending()
                        && (o.kind() == Kind.READ && !o.read().contains(x)
                        || o.kind() == Kind.ADD && x.equals(o.element()) && o.result() == Result.OK));
                if (!seenAbsent) {
                    continue;
                }
            }
            settled.add(op);
        }
        return settled;
    }

    // ---- The search ---------------------------------------------------------------------------

    private static final class Entry {
        final int op;
        final boolean call;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean call, long time) {
            this.op = op;
            this.call = call;
            this.time = time;
        }
    }

    private record Key(long[] linearized, long[] state) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(linearized, k.linearized) && Arrays.equals(state, k.state);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(linearized) + Arrays.hashCode(state);
        }
    }

    private record Frame(Entry entry, BitSet before) {
    }

    private static final class Search {
        final List<Op> ops;
        final int[] element;
        final BitSet[] read;
        final BitSet initial = new BitSet();
        final Entry head = new Entry(-1, false, Long.MIN_VALUE);
        int returnsLeft;
        long steps;
        int deepest = -1;
        int stuckAt = -1;

        Search(Set<String> initialSet, List<Op> history) {
            this.ops = history;
            Map<String, Integer> index = new HashMap<>();
            for (String x : initialSet) {
                initial.set(index.computeIfAbsent(x, k -> index.size()));
            }
            for (Op op : history) {
                if (op.element() != null) {
                    index.computeIfAbsent(op.element(), k -> index.size());
                }
                if (op.read() != null) {
                    op.read().forEach(x -> index.computeIfAbsent(x, k -> index.size()));
                }
            }
            element = new int[history.size()];
            read = new BitSet[history.size()];
            List<Entry> entries = new ArrayList<>();
            for (int i = 0; i < history.size(); i++) {
                Op op = history.get(i);
                element[i] = op.element() == null ? -1 : index.get(op.element());
                if (op.read() != null) {
                    BitSet b = new BitSet();
                    op.read().forEach(x -> b.set(index.get(x)));
                    read[i] = b;
                }
                Entry call = new Entry(i, true, op.call());
                entries.add(call);
                if (!op.pending()) {
                    Entry ret = new Entry(i, false, op.ret());
                    call.match = ret;
                    entries.add(ret);
                    returnsLeft++;
                }
            }
            // By time; at equal times a call goes before a return, so that two such calls count as concurrent.
            entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> !e.call));
            Entry prev = head;
            for (Entry e : entries) {
                prev.next = e;
                e.prev = prev;
                prev = e;
            }
        }

        /** The state after {@code op}, or null when a set could not have answered what it did. */
        BitSet step(BitSet state, int op) {
            Op o = ops.get(op);
            int x = element[op];
            return switch (o.kind()) {
                case READ -> state.equals(read[op]) ? state : null;
                case ADD -> switch (o.result()) {
                    case OK -> state.get(x) ? null : with(state, x, true);
                    case NOOP -> state.get(x) ? state : null;
                    case UNKNOWN -> state.get(x) ? state : with(state, x, true);
                };
                case REMOVE -> switch (o.result()) {
                    case OK -> state.get(x) ? with(state, x, false) : null;
                    case NOOP -> state.get(x) ? null : state;
                    case UNKNOWN -> state.get(x) ? with(state, x, false) : state;
                };
            };
        }

        private static BitSet with(BitSet state, int x, boolean present) {
            BitSet next = (BitSet) state.clone();
            next.set(x, present);
            return next;
        }

        private void lift(Entry call) {
            call.prev.next = call.next;
            if (call.next != null) {
                call.next.prev = call.prev;
            }
            Entry ret = call.match;
            if (ret != null) {
                ret.prev.next = ret.next;
                if (ret.next != null) {
                    ret.next.prev = ret.prev;
                }
                returnsLeft--;
            }
        }

        private void unlift(Entry call) {
            Entry ret = call.match;
            if (ret != null) {
                ret.prev.next = ret;
                if (ret.next != null) {
                    ret.next.prev = ret;
                }
                returnsLeft++;
            }
            call.prev.next = call;
            if (call.next != null) {
                call.next.prev = call;
            }
        }

        /** True: linearizable; false: not; null: gave up. */
        Boolean run(long maxSteps) {
            BitSet state = initial;
            BitSet linearized = new BitSet();
            Set<Key> seen = new HashSet<>();
            Deque<Frame> stack = new ArrayDeque<>();
            Entry entry = head.next;
            while (returnsLeft > 0) {
                if (++steps > maxSteps) {
                    return null;
                }
                if (entry != null && entry.call) {
                    BitSet next = step(state, entry.op);
                    if (next != null) {
                        linearized.set(entry.op);
                        if (seen.add(new Key(linearized.toLongArray(), next.toLongArray()))) {
                            stack.push(new Frame(entry, state));
                            state = next;
                            lift(entry);
                            entry = head.next;
                            continue;
                        }
                        linearized.clear(entry.op);
                    }
                    entry = entry.next;
                } else {
                    // A return reached before its call was linearized: undo the last choice.
                    if (stack.size() > deepest && entry != null) {
                        deepest = stack.size();
                        stuckAt = entry.op;
                    }
                    if (stack.isEmpty()) {
                        return false;
                    }
                    Frame f = stack.pop();
                    linearized.clear(f.entry.op);
                    state = f.before;
                    unlift(f.entry);
                    entry = f.entry.next;
                }
            }
            return true;
        }

        String stuck() {
            if (stuckAt < 0) {
                return "no order of the calls explains the answers";
            }
            return "no order of the calls explains the answers; the furthest order found (" + deepest
                    + " calls) cannot place " + ops.get(stuckAt);
        }
    }
}
