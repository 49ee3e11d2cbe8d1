package dev.weldr.proxy;

import io.vertx.core.VertxException;

/** No server can take the request: the pool is empty or every server is down or draining. */
final class NoBackendException extends VertxException {
    NoBackendException(String message) {
        super(message, true);
    }
}
