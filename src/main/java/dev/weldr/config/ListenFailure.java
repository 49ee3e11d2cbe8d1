package dev.weldr.config;

import java.io.UncheckedIOException;
import java.net.BindException;

/**
 * A listener that could not bind, said with its address: the transports say "Address already in
 * use" without the address (epoll's bind failure), or bury it under their own wrappers (JRaft's
 * RPC server). Start-up then ends with one line naming the listener, its key and its address.
 */
public final class ListenFailure {

    private static final String IN_USE = "Address already in use";
    private static final String NOT_HERE = "Cannot assign requested address";

    private ListenFailure() {
    }

    /** {@code failure} as a bind failure of this listener when it is one; else {@code failure} itself. */
    public static RuntimeException of(String listener, String host, int port, Exception failure) {
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String message = String.valueOf(c.getMessage());
            String reason = message.contains(IN_USE) ? IN_USE : message.contains(NOT_HERE) ? NOT_HERE : null;
            if (c instanceof BindException || reason != null) {
                BindException bind = new BindException(listener + " on " + host + ":" + port + ": "
                        + (reason != null ? reason : message));
                bind.initCause(failure);
                return new UncheckedIOException(bind);
            }
        }
        return failure instanceof RuntimeException r ? r : new IllegalStateException(failure);
    }
}
