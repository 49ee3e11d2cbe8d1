package dev.weldr.admin;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;

/**
 * Refuses an announced body over the admin API's limit with the JSON error, before anything
 * reads it. (A chunked body that grows past the limit is cut off by
 * {@code quarkus.http.limits.max-body-size} with a bare 413.)
 */
@jakarta.enterprise.context.ApplicationScoped
public class BodyLimit {

    static final long MAX_BYTES = 64 * 1024;

    void install(@Observes Router router) {
        router.route().order(-1000).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && tooLarge(length)) {
                ctx.response().setStatusCode(413)
                        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                        .putHeader(HttpHeaders.CONNECTION, "close")
                        .end("{\"error\":\"body_too_large\",\"message\":\"the body is larger than 65536 bytes\"}");
                return;
            }
            ctx.next();
        });
    }

    private static boolean tooLarge(String length) {
        try {
            return Long.parseLong(length.trim()) > MAX_BYTES;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
