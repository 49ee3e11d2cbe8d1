package dev.weldr.config;

/** Which nodes report ready. */
public enum HaMode {
    /** Only the leader is ready: one node takes the traffic (and the VIP). */
    ACTIVE_PASSIVE,
    /** Every node that knows a leader is ready. */
    ACTIVE_ACTIVE
}
