package dev.weldr.proxy;

import io.vertx.core.http.HttpClientRequest;

/** One client request's way through the proxy: which backend, how many tries, how it ended. */
final class Exchange {

    static final String KEY = "weldr.exchange";

    final long startNanos = System.nanoTime();
    Backend backend;
    HttpClientRequest backendRequest;
    int attempts;
    /** The backend whose failure was last counted, so that one failure is counted once. */
    Backend failureCounted;
    /** weldr answered (502/503/504) instead of a backend. */
    boolean ownAnswer;
}
