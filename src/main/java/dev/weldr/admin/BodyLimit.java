package dev.weldr.admin;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The admin API takes bodies of at most 64 KiB, announced by Content-Length. Both rules are
 * checked here, before anything reads the body, so that the client gets the JSON error: a body
 * over the limit gets 413; a chunked body (size unknown until read) gets 411 Length Required —
 * cut off half-way by the HTTP layer it would get a bare 413 and an error in the log.
 */
@ApplicationScoped
public class BodyLimit {

    static final long MAX_BYTES = 64 * 1024;

    void install(@Observes Router router) {
        router.route().order(-1000).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length == null && ctx.request().headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
                refuse(ctx.response(), 411, "length_required",
                        "send the body with a Content-Length (at most 65536 bytes), not chunked");
                return;
            }
            if (length != null && tooLarge(length)) {
                refuse(ctx.response(), 413, "body_too_large", "the body is larger than 65536 bytes");
                return;
            }
            ctx.next();
        });
    }

    private static void refuse(HttpServerResponse response, int status, String code, String message) {
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.CONNECTION, "close")
                .end("{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}");
    }

    private static boolean tooLarge(String length) {
        try {
            return Long.parseLong(length.trim()) > MAX_BYTES;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
