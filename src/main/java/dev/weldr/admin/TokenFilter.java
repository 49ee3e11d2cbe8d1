package dev.weldr.admin;

import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;


/**
 * With {@code weldr.admin.token} set, the pool, certificates, stats, cluster and audit resources need
 * {@code Authorization: Bearer <token>}; health, metrics and OpenAPI stay open.
 */
public class TokenFilter {

    @Inject
    AdminToken token;
    @Inject
    Caller caller;

    @ServerRequestFilter(preMatching = true)
    public Response check(ContainerRequestContext request) {
        if (!protectedPath(request.getUriInfo().getPath()) || !token.required()) {
            return null;
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        if (token.matches(given)) {
            caller.identified("admin");
            return null;
        }
        return Response.fromResponse(Errors.response(401, "unauthorized",
                        given == null ? "this call needs Authorization: Bearer <token>" : "the token is not valid"))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"weldr\"").build();
    }

    private static boolean protectedPath(String path) {
        return path.startsWith("/servers") || path.startsWith("/stats") || path.startsWith("/cluster")
                || path.startsWith("/pools") || path.startsWith("/routes") || path.startsWith("/certificates") || path.startsWith("/audit");
    }
}
