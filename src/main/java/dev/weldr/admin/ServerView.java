package dev.weldr.admin;

import dev.weldr.pool.Server;

import java.util.List;

/** A server as {@code GET /servers} shows it; {@code state} is this node's view. */
public record ServerView(String id, String url, String host, int port, String state, int weight, boolean draining,
                         List<Link> links) {

    static ServerView of(Server server, String state, String href) {
        return new ServerView(server.id(), server.url(), server.host(), server.port(), state, server.weight(),
                server.draining(),
                List.of(new Link("self", href, "GET"), new Link("update", href, "PATCH"), new Link("remove", href, "DELETE")));
    }
}
