package dev.weldr.pool;

import java.util.Locale;

/** Host and port: what identifies a server in the pool ({@code /servers/{ip}/{port}}). */
public record ServerKey(String host, int port) {

    public ServerKey {
        host = host.toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
