package dev.weldr.admin;

import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;


/**
 * With {@code weldr.admin.token} or {@code weldr.admin.tokens-file} set, every resource of the API but
 * its root needs {@code Authorization: Bearer <token>}, and a
 * {@code read} token may only read them (GET, HEAD, OPTIONS); health, metrics and OpenAPI stay open. A follower
 * checks before it forwards a call to the leader, which checks it again.
 */
public class TokenFilter {

    @Inject
    AdminTokens tokens;
    @Inject
    Caller caller;

    @ServerRequestFilter(preMatching = true)
    public Response check(ContainerRequestContext request) {
        if (!protectedPath(request.getUriInfo().getPath()) || !tokens.required()) {
            return null;
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
        Token token = tokens.find(given);
        if (token == null) {
            return Response.fromResponse(Errors.response(401, "unauthorized",
                            given == null ? "this call needs Authorization: Bearer <token>" : "the token is not valid"))
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"weldr\"").build();
        }
        if (!token.allows(request.getMethod())) {
            return Errors.response(403, "forbidden", "the token '" + token.name() + "' has the scope "
                    + token.scope() + ": it may only read (GET, HEAD, OPTIONS), not " + request.getMethod());
        }
        caller.identified(token);
        return null;
    }

    /**
     * Everything the API serves but its root (which only links onward): a resource added later is
     * protected without being listed here. Health, metrics, OpenAPI and the dashboard's files are not
     * served by the API and stay open.
     */
    static boolean protectedPath(String path) {
        return !path.isEmpty() && !path.equals("/");
    }
}
