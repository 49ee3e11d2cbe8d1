package dev.weldr.faults;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The writer's history of calls on the pool, seen as a set of server ids: each call with the time
 * it was invoked and the time its answer came back (from one clock), and what the answer said.
 * A call whose outcome is unknown (timeout, connection lost, 503 "may or may not have been
 * applied") has no return time: it may take effect at any point after its invocation, or never.
 * A call that definitely failed is not part of the history at all.
 */
public final class SetHistory {

    public enum Kind { ADD, REMOVE, READ }

    /**
     * What an answer said. For ADD: {@code OK} = added (201), {@code NOOP} = already there (409).
     * For REMOVE: {@code OK} = removed (204), {@code NOOP} = not there (404). For READ: {@code OK}.
     */
    public enum Result { OK, NOOP, UNKNOWN }

    /** The return time of a call whose outcome is unknown. */
    public static final long PENDING = Long.MAX_VALUE;

    public record Op(int id, String process, Kind kind, String element, Result result, Set<String> read,
                     long call, long ret) {

        public Op {
            if (ret != PENDING && ret < call) {
                throw new IllegalArgumentException("op " + id + " returns before it is invoked");
            }
            if (result == Result.UNKNOWN && ret != PENDING || result != Result.UNKNOWN && ret == PENDING) {
                throw new IllegalArgumentException("op " + id + ": an unknown outcome, and only that, has no return time");
            }
            if (kind == Kind.READ && (read == null || result != Result.OK)) {
                throw new IllegalArgumentException("op " + id + ": a read is recorded only with what it read");
            }
            read = read == null ? null : Collections.unmodifiableSet(new TreeSet<>(read));
        }

        boolean pending() {
            return ret == PENDING;
        }

        @Override
        public String toString() {
            String what = switch (kind) {
                case ADD -> "add " + element + " -> " + (result == Result.OK ? "added" : result == Result.NOOP ? "exists" : "unknown");
                case REMOVE -> "remove " + element + " -> " + (result == Result.OK ? "removed" : result == Result.NOOP ? "absent" : "unknown");
                case READ -> "read -> " + read;
            };
            return "#" + id + " [" + process + "] " + what + " @" + call + ".." + (pending() ? "?" : Long.toString(ret));
        }
    }

    /** A call that definitely failed: not part of the history, kept to explain a failed check. */
    public record Failed(String process, String call, String element, long invoked, long returned, String answer) {
        @Override
        public String toString() {
            return "[" + process + "] " + call + " @" + invoked + ".." + returned + " -> " + answer;
        }
    }

    private final List<Op> ops = new ArrayList<>();
    private final List<Failed> failed = new ArrayList<>();

    public synchronized void failed(String process, String call, String element, long invoked, long returned, String answer) {
        failed.add(new Failed(process, call, element, invoked, returned, answer));
    }

    public synchronized List<Failed> failed() {
        return List.copyOf(failed);
    }

    public synchronized Op add(String process, String element, Result result, long call, long ret) {
        return record(new Op(ops.size(), process, Kind.ADD, element, result, null, call, ret));
    }

    public synchronized Op remove(String process, String element, Result result, long call, long ret) {
        return record(new Op(ops.size(), process, Kind.REMOVE, element, result, null, call, ret));
    }

    public synchronized Op read(String process, Set<String> read, long call, long ret) {
        return record(new Op(ops.size(), process, Kind.READ, null, Result.OK, read, call, ret));
    }

    private Op record(Op op) {
        ops.add(op);
        return op;
    }

    public synchronized List<Op> ops() {
        return List.copyOf(ops);
    }
}
