package dev.weldr.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

import java.util.concurrent.TimeoutException;

/**
 * A backend's response body on its way to the client, timed. Vert.x stops timing a request once
 * the response head has arrived, so a backend that stalls in the middle of a body would leave the
 * client waiting: while the proxy reads this stream and the backend sends nothing for longer than
 * the read timeout, the backend request is reset, which closes the client's connection (too late
 * for a 504). While the client is slow to take the body (the pipe pauses this stream for
 * back-pressure) the timer does not run: that is not the backend's fault.
 */
final class TimedResponseBody implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final Vertx vertx;
    private final Exchange exchange;
    private final long readTimeoutMs;
    private long timer = -1;
    private long lastRead;
    private boolean done;

    TimedResponseBody(ReadStream<Buffer> source, Vertx vertx, Exchange exchange, long readTimeoutMs) {
        this.source = source;
        this.vertx = vertx;
        this.exchange = exchange;
        this.readTimeoutMs = readTimeoutMs;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        source.exceptionHandler(handler == null ? null : failure -> {
            stop();
            handler.handle(failure);
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        source.handler(handler == null ? null : chunk -> {
            lastRead = System.nanoTime();
            handler.handle(chunk);
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        cancel();
        source.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        arm();
        source.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        arm();
        source.fetch(amount);
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        source.endHandler(endHandler == null ? null : v -> {
            stop();
            endHandler.handle(v);
        });
        return this;
    }

    private void arm() {
        if (done || timer != -1 || readTimeoutMs <= 0) {
            return;
        }
        lastRead = System.nanoTime();
        schedule(readTimeoutMs);
    }

    /** One timer per quiet period, not one per chunk: on expiry it checks when data last came. */
    private void schedule(long delayMs) {
        timer = vertx.setTimer(Math.max(1, delayMs), id -> {
            timer = -1;
            long quietMs = (System.nanoTime() - lastRead) / 1_000_000;
            if (quietMs < readTimeoutMs) {
                schedule(readTimeoutMs - quietMs);
            } else if (exchange.backendRequest != null) {
                done = true;
                exchange.backendRequest.reset(0, new TimeoutException(
                        "the backend sent no part of its response body for " + readTimeoutMs + " ms"));
            }
        });
    }

    private void cancel() {
        if (timer != -1) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void stop() {
        done = true;
        cancel();
    }
}
