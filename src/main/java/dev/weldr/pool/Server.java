package dev.weldr.pool;

import java.util.Objects;

/**
 * One backend as the pool wants it (desired state). Whether it answers is observed
 * locally by each node and is not part of this record.
 *
 * @param scheme   {@code http} or {@code https}
 * @param host     lower-case host name or IP literal (IPv6 without brackets)
 * @param port     1..65535
 * @param weight   relative share of traffic, 1 by default
 * @param draining a draining server receives no new requests
 */
public record Server(String scheme, String host, int port, int weight, boolean draining) {

    public static final int DEFAULT_WEIGHT = 1;

    public Server {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(host, "host");
    }

    public static Server of(ServerUrl url) {
        return new Server(url.scheme(), url.host(), url.port(), DEFAULT_WEIGHT, false);
    }

    /** The identity of a server in the pool: its host and port. */
    public ServerKey key() {
        return new ServerKey(host, port);
    }

    public String id() {
        return key().toString();
    }

    public String url() {
        return new ServerUrl(scheme, host, port).toString();
    }
}
