package dev.weldr.proxy.lb;

/** What a load-balancing policy may know of a server: its identity, weight and current load. */
public interface Endpoint {

    /** Stable identity, {@code host:port}; consistent hashing places servers by it. */
    String id();

    /** Relative share of traffic, at least 1. */
    int weight();

    /** Requests this node has sent to the server that have not finished yet. */
    int inFlight();
}
