package dev.weldr.admin;

import dev.weldr.cluster.Leadership;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * Every answer of the admin listener names the leader in {@code X-Weldr-Leader}, errors included
 * (a 401, a 404 for an unknown path, a 405, a 413 refused before the body is read, health and
 * metrics too), so that a client can always find where writes go. Installed ahead of every other
 * handler; an answer forwarded from the leader keeps the leader's own header. With no leader
 * known, there is nothing to name and the header is left out.
 */
@ApplicationScoped
public class LeaderHeader {

    @Inject
    Leadership leadership;

    void install(@Observes Router router) {
        router.route().order(-2000).handler(ctx -> {
            ctx.addHeadersEndHandler(v -> {
                String leader = leadership.leaderId();
                if (leader != null && !ctx.response().headers().contains(LeaderRoute.LEADER_HEADER)) {
                    ctx.response().putHeader(LeaderRoute.LEADER_HEADER, leader);
                }
            });
            ctx.next();
        });
    }
}
