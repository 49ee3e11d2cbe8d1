package dev.weldr.proxy;

import io.vertx.core.MultiMap;

import java.util.List;

/** RFC 9110 §7.6.1: headers that concern one connection and must not be forwarded. */
final class HopByHop {

    private static final List<String> ALWAYS = List.of(
            "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "trailer",
            "upgrade", "proxy-authorization", "proxy-authenticate");

    private HopByHop() {
    }

    /** Removes the headers named by Connection; the fixed list is removed too when {@code all}. */
    static void strip(MultiMap headers, boolean all) {
        List<String> connection = headers.getAll("connection");
        for (String value : connection) {
            for (String token : value.split(",")) {
                String name = token.trim();
                if (!name.isEmpty()) {
                    headers.remove(name);
                }
            }
        }
        if (all) {
            for (String name : ALWAYS) {
                headers.remove(name);
            }
        }
    }

    /**
     * Appends a value to a list-valued header (Via, X-Forwarded-For). Every existing line counts:
     * several lines of one field are one comma-separated list (RFC 9110 §5.3), joined here in order.
     */
    static void append(MultiMap headers, String name, String value) {
        StringBuilder list = new StringBuilder();
        for (String existing : headers.getAll(name)) {
            if (!existing.isBlank()) {
                list.append(existing.trim()).append(", ");
            }
        }
        headers.set(name, list.append(value).toString());
    }
}
