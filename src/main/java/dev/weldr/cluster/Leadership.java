package dev.weldr.cluster;

import dev.weldr.events.EventLog;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What this node knows of the Raft group's leadership: its own role, the leader it follows
 * and the term. Written by the state machine's leadership callbacks (on the Raft thread); read by
 * readiness, metrics and the admin API. Listeners are called on the Raft thread and must hand
 * any slow work (commands, the VIP) to a thread of their own.
 */
@ApplicationScoped
public class Leadership {

    public enum Role { LEADER, FOLLOWER, CANDIDATE }

    /** One consistent view of the leadership. */
    public record State(Role role, String leaderId, long term) {
    }

    @Inject
    EventLog events;

    private volatile State state = new State(Role.CANDIDATE, null, 0);
    /** When this node last saw the leader or the term change: the last election, as far as it knows. */
    private volatile Instant changedAt;
    private final List<Consumer<State>> listeners = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<CompletableFuture<String>> waiting = new ConcurrentLinkedQueue<>();

    public State state() {
        return state;
    }

    public Role role() {
        return state.role();
    }

    public boolean isLeader() {
        return state.role() == Role.LEADER;
    }

    /** The leader's Raft id ({@code host:port}), or null while none is known. */
    public String leaderId() {
        return state.leaderId();
    }

    public long term() {
        return state.term();
    }

    public void becameLeader(String self, long term) {
        set(new State(Role.LEADER, self, term));
    }

    public void following(String leader, long term) {
        set(new State(Role.FOLLOWER, leader, term));
    }

    /** Lost the leader (stepped down, leader gone, election under way). */
    public void leaderless() {
        set(new State(Role.CANDIDATE, null, state.term()));
    }

    /** When this node last saw the leader or the term change; null before it saw any. */
    public Instant changedAt() {
        return changedAt;
    }

    private void set(State next) {
        State before = state;
        if (!Objects.equals(before.leaderId(), next.leaderId()) || before.term() != next.term()) {
            changedAt = Instant.now();
            if (next.leaderId() != null) {
                events.node(EventLog.Kind.LEADER, next.leaderId(), next.leaderId() + " leads in term " + next.term()
                        + (next.role() == Role.LEADER ? " (this node)" : ""));
            } else {
                events.node(EventLog.Kind.NO_LEADER, before.leaderId(), "no leader in term " + next.term()
                        + (before.leaderId() != null ? " (was " + before.leaderId() + ")" : ""));
            }
        }
        state = next;
        for (Consumer<State> listener : listeners) {
            listener.accept(next);
        }
        if (next.leaderId() != null) {
            CompletableFuture<String> f;
            while ((f = waiting.poll()) != null) {
                f.complete(next.leaderId());
            }
        }
    }

    public void subscribe(Consumer<State> listener) {
        listeners.add(listener);
    }

    /**
     * Completes with the leader's id as soon as one is known (at once if one is), or with a
     * {@link java.util.concurrent.TimeoutException} after {@code within}.
     */
    public CompletableFuture<String> leaderKnown(Duration within) {
        String leader = leaderId();
        if (leader != null) {
            return CompletableFuture.completedFuture(leader);
        }
        CompletableFuture<String> f = new CompletableFuture<>();
        waiting.add(f);
        leader = leaderId();
        if (leader != null) {
            f.complete(leader);
        }
        return f.orTimeout(within.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> waiting.remove(f));
    }
}
