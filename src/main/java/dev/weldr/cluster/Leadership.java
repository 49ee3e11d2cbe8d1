package dev.weldr.cluster;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * What this node knows of the Raft group's leadership: its own role, the leader it follows
 * and the term. Written by the state machine's leadership callbacks, read by readiness,
 * metrics and the admin API.
 */
@ApplicationScoped
public class Leadership {

    public enum Role { LEADER, FOLLOWER, CANDIDATE }

    private volatile Role role = Role.CANDIDATE;
    private volatile String leaderId;
    private volatile long term;

    public Role role() {
        return role;
    }

    public boolean isLeader() {
        return role == Role.LEADER;
    }

    /** The leader's Raft id ({@code host:port}), or null while none is known. */
    public String leaderId() {
        return leaderId;
    }

    public long term() {
        return term;
    }

    public void becameLeader(String self, long term) {
        this.term = term;
        this.leaderId = self;
        this.role = Role.LEADER;
    }

    public void following(String leader, long term) {
        this.term = term;
        this.leaderId = leader;
        this.role = Role.FOLLOWER;
    }

    /** Lost the leader (stepped down, leader gone, election under way). */
    public void leaderless() {
        this.leaderId = null;
        this.role = Role.CANDIDATE;
    }
}
