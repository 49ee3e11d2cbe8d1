package dev.weldr.proxy;

import dev.weldr.proxy.lb.RequestKey;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;

/** One client request's way through the proxy: its pool, which backend, how many tries, how it ended. */
final class Exchange implements RequestKey {

    final long startNanos = System.nanoTime();
    final HttpServerRequest in;
    /** The request carries a body (Content-Length above 0, or chunked). */
    final boolean hasBody;
    PoolTable pool;
    Backend backend;
    /** The backend whose in-flight count this exchange holds. */
    Backend holding;
    HttpClientRequest backendRequest;
    int attempts;
    /** The backend whose failure was last counted, so that one failure is counted once. */
    Backend failureCounted;
    /** Every backend that failed this request, so that no retry goes back to one; null until one fails. */
    List<Backend> failed;
    /** weldr answered (400/501/502/503/504) instead of a backend. */
    boolean ownAnswer;
    /** The client sent {@code Expect: 100-continue} and holds its body back until told to continue. */
    boolean expectsContinue;
    /** weldr told the client to continue. */
    boolean continued;
    /** The client's connection is closed after weldr's own answer (it could not carry another request). */
    boolean closeAfterAnswer;
    /** The client's answer is complete (or abandoned) and counted. */
    boolean done;

    // The read timeout, checked by the event loop's sweep (see ProxyHandler#sweep).
    /** When the backend last sent something (or was last expected to start). */
    long lastReadNanos;
    /** The client does not take the body fast enough: the backend is paused, its silence is not its fault. */
    boolean clientPaused;
    /** The backend request was reset because the backend stayed silent past the read timeout. */
    boolean timedOut;
    /** On the event loop's list of exchanges waiting for their backend. */
    boolean watched;
    Exchange prevWatched;
    Exchange nextWatched;

    Exchange(HttpServerRequest in, boolean hasBody) {
        this.in = in;
        this.hasBody = hasBody;
    }

    @Override
    public String header(String name) {
        return in.getHeader(name);
    }

    @Override
    public String cookie(String name) {
        Cookie c = in.getCookie(name);
        return c == null ? null : c.getValue();
    }

    @Override
    public String clientAddress() {
        return in.remoteAddress() == null ? "" : in.remoteAddress().hostAddress();
    }
}
