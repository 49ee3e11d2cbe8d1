package dev.weldr.ui;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The dashboard's files (META-INF/resources/ui, served by Quarkus from the jar) get a
 * Content-Security-Policy that allows only the page's own origin and no inline code, so that a
 * value shown on the page (a server URL, an audit summary) can never run as script. {@code /ui}
 * redirects to {@code /ui/}: the page names its files relatively.
 */
@ApplicationScoped
public class DashboardRoutes {

    static final String CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

    void install(@Observes Router router) {
        router.getWithRegex("/ui").order(-1500).handler(ctx -> ctx.response().setStatusCode(301)
                .putHeader("Location", "/ui/").putHeader("Content-Security-Policy", CSP).end());
        router.route("/ui/*").order(-1500).handler(ctx -> {
            ctx.response().putHeader("Content-Security-Policy", CSP)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer")
                    // The files change with the jar: revalidate each load so an upgrade is seen at once.
                    .putHeader("Cache-Control", "no-cache");
            ctx.next();
        });
    }
}
