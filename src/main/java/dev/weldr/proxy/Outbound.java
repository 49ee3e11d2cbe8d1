package dev.weldr.proxy;

/** A connection weldr writes to from its own handler on: a client's or a backend's. */
interface Outbound {

    /** Writes (does not flush) a buffer toward the peer. */
    void write(Object msg);
}
