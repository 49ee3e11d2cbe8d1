package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.HostName;
import dev.weldr.pool.Hsts;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Route;
import dev.weldr.pool.Topology;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Routes: a request goes to the pool of the route with the longest path prefix among those for
 * its host (or for any host); with no match, to the default pool.
 */
@Path("/routes")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "routes", description = "Which pool a request goes to, by Host and path prefix")
public class RoutesResource {

    private static final String NAME = "[a-z0-9][a-z0-9_-]{0,62}";
    /** Longer than any request line weldr takes (8 KB) makes no sense; nginx has no limit of its own. */
    static final int MAX_PREFIX = 1024;
    private static final Set<String> FIELDS = Set.of("host", "pathPrefix", "pool", "httpsRedirect", "hsts");
    private static final Set<String> HSTS_FIELDS = Set.of("maxAge", "includeSubDomains", "preload");

    @Inject
    PoolService service;
    @Inject
    LeaderRoute route;

    /** {@code hsts}: null when the route sends no Strict-Transport-Security. */
    public record RouteView(String name, String host, String pathPrefix, String pool, boolean httpsRedirect, Hsts hsts,
                            List<Link> links) {
        static RouteView of(Route r) {
            String href = "/routes/" + r.name();
            return new RouteView(r.name(), r.host(), r.pathPrefix(), r.pool(), r.httpsRedirect(), r.hsts(),
                    List.of(new Link("self", href, "GET"), new Link("replace", href, "PUT"), new Link("remove", href, "DELETE")));
        }
    }

    public record RouteList(List<RouteView> routes) {
    }

    @GET
    @Operation(summary = "List the routes")
    public RouteList list() {
        return new RouteList(service.current().routes().stream().map(RouteView::of).toList());
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "One route")
    @APIResponse(responseCode = "404", description = "No such route")
    public RouteView get(@PathParam("name") String name) {
        return service.current().routes().stream().filter(r -> r.name().equals(name)).findFirst().map(RouteView::of)
                .orElseThrow(() -> new ApiException(404, "not_found", "route " + name + " does not exist"));
    }

    @PUT
    @Path("/{name}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Create or replace a route: {\"host\": \"api.example.com\", \"pathPrefix\": \"/v1\", \"pool\": \"api\"}",
            description = "Optional: \"httpsRedirect\": true answers a request on the plain listener with 308 to the same"
                    + " path and query over HTTPS; \"hsts\": {\"maxAge\": 31536000, \"includeSubDomains\": false,"
                    + " \"preload\": false} adds Strict-Transport-Security to the answers on the HTTPS listener.")
    @APIResponse(responseCode = "200", description = "The route as stored")
    @APIResponse(responseCode = "400", description = "Bad JSON, host, prefix or HSTS policy, or a pool that does not exist")
    public CompletionStage<Response> put(@PathParam("name") String name, String body,
                                         @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                         @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!name.matches(NAME)) {
            throw ApiException.badRequest("a route name is 1 to 63 lower-case letters, digits, '-' or '_'");
        }
        JsonNode node = Bodies.object(body, "{\"pathPrefix\": \"/api\", \"pool\": \"api\"}", FIELDS,
                "a route has a host, a pathPrefix, a pool, httpsRedirect and hsts");
        String host = Bodies.text(node, "host", false);
        if (host != null && !host.isEmpty() && !HostName.valid(host)) {
            throw ApiException.badRequest("host must be a host name without port (at most " + HostName.MAX + " characters), or empty for any host");
        }
        String prefix = Bodies.text(node, "pathPrefix", false);
        if (prefix != null && (!prefix.startsWith("/") || prefix.length() > MAX_PREFIX || !visibleAscii(prefix))) {
            throw ApiException.badRequest("pathPrefix must start with / and be at most " + MAX_PREFIX
                    + " characters with no space nor control character, as a request target has");
        }
        String pool = Bodies.text(node, "pool", true);
        Boolean redirect = Bodies.bool(node, "httpsRedirect");
        Route r = new Route(name, host, prefix, pool, redirect != null && redirect, hsts(node.get("hsts")));
        return route.run(new LeaderRoute.Call("PUT", LeaderRoute.path("routes", name), body, authorization, forwardedBy),
                actor -> service.submit(new PoolCommand.PutRoute(r), actor).thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.NO_SUCH_POOL) {
                        throw new ApiException(400, "no_such_pool", "pool " + pool + " does not exist; create it first");
                    }
                    if (outcome.result() == Outcome.Result.TOO_MANY) {
                        throw new ApiException(400, "too_many", "a cluster holds at most " + Topology.MAX_ROUTES + " routes");
                    }
                    return Response.ok(RouteView.of(r)).build();
                }));
    }

    @DELETE
    @Path("/{name}")
    @Operation(summary = "Remove a route")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "No such route")
    public CompletionStage<Response> delete(@PathParam("name") String name,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!name.matches(NAME)) {
            throw new ApiException(404, "not_found", "route " + name + " does not exist");
        }
        return route.run(new LeaderRoute.Call("DELETE", LeaderRoute.path("routes", name), null, authorization, forwardedBy),
                actor -> service.submit(new PoolCommand.DeleteRoute(name), actor).thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.NOT_FOUND) {
                        throw new ApiException(404, "not_found", "route " + name + " does not exist");
                    }
                    return Response.noContent().build();
                }));
    }

    /** The HSTS policy of a route's body; null when it has none. */
    private static Hsts hsts(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw ApiException.badRequest("hsts must be an object, e.g. {\"maxAge\": 31536000, \"includeSubDomains\": false}");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!HSTS_FIELDS.contains(field)) {
                throw ApiException.badRequest("unknown field 'hsts." + field + "'; hsts has a maxAge, includeSubDomains and preload");
            }
        }
        JsonNode age = node.get("maxAge");
        if (age == null || age.isNull()) {
            // No default: a browser keeps the policy for that long, so an operator says how long.
            throw ApiException.badRequest("hsts.maxAge is required (seconds; 31536000 is a year, 0 tells browsers to forget the policy)");
        }
        if (!age.isIntegralNumber() || !age.canConvertToLong() || age.asLong() < 0 || age.asLong() > Hsts.MAX_AGE) {
            throw ApiException.badRequest("hsts.maxAge must be a whole number of seconds from 0 to " + Hsts.MAX_AGE);
        }
        Boolean sub = Bodies.bool(node, "includeSubDomains");
        Boolean preload = Bodies.bool(node, "preload");
        Hsts hsts = new Hsts(age.asLong(), sub != null && sub, preload != null && preload);
        if (hsts.preload() && (!hsts.includeSubDomains() || hsts.maxAge() < Hsts.PRELOAD_MIN_AGE)) {
            // hstspreload.org refuses such a header: asking for preload with it is a mistake.
            throw ApiException.badRequest("hsts.preload needs includeSubDomains and a maxAge of at least "
                    + Hsts.PRELOAD_MIN_AGE + " (a year), as hstspreload.org requires");
        }
        return hsts;
    }

    /** Characters a request target can hold as they are: 0x21 to 0x7E. */
    static boolean visibleAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7F) {
                return false;
            }
        }
        return true;
    }
}
