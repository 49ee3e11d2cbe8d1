package dev.weldr.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

import java.util.concurrent.TimeoutException;

/**
 * The client's request body on its way to a backend, timed: while the backend does not take
 * data (the pipe pauses this stream for back-pressure) for longer than the write timeout, the
 * backend request is reset with a timeout; once the body has been written whole, the read
 * timeout starts (it calls {@code written}). A slow upload from the client itself is never the backend's fault.
 */
final class TimedBody implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final Vertx vertx;
    private final Exchange exchange;
    private final long writeTimeoutMs;
    private final Runnable written;
    private boolean started;
    private long stallTimer = -1;

    TimedBody(ReadStream<Buffer> source, Vertx vertx, Exchange exchange, long writeTimeoutMs, Runnable written) {
        this.source = source;
        this.vertx = vertx;
        this.exchange = exchange;
        this.writeTimeoutMs = writeTimeoutMs;
        this.written = written;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        source.exceptionHandler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        source.handler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        if (started && stallTimer == -1) {
            stallTimer = vertx.setTimer(writeTimeoutMs, id -> {
                stallTimer = -1;
                if (exchange.backendRequest != null) {
                    exchange.backendRequest.reset(0, new TimeoutException(
                            "the backend did not accept the request body within " + writeTimeoutMs + " ms"));
                }
            });
        }
        source.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        started = true;
        cancelStall();
        source.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        source.fetch(amount);
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        source.endHandler(endHandler == null ? null : v -> {
            cancelStall();
            written.run();
            endHandler.handle(v);
        });
        return this;
    }

    private void cancelStall() {
        if (stallTimer != -1) {
            vertx.cancelTimer(stallTimer);
            stallTimer = -1;
        }
    }
}
