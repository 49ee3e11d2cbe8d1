package dev.weldr.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Pool;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.PoolSettings;
import dev.weldr.pool.Topology;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/** Named pools, their settings (policy, protocol, health checks, outlier detection, limits, backend TLS) and their servers. */
@Path("/pools")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "pools", description = "Named pools of servers; /servers is the pool named default")
public class PoolsResource {

    private static final String NAME = "[a-z0-9][a-z0-9_-]{0,62}";

    @Inject
    PoolService service;
    @Inject
    PoolServers servers;
    @Inject
    LeaderRoute route;

    /** {@code serverList}: the pool's servers, only with {@code ?expand=servers} (left out otherwise). */
    public record PoolView(String name, Map<String, Object> settings, int servers, List<Link> links,
                           @JsonInclude(JsonInclude.Include.NON_NULL) List<ServerView> serverList) {
        static PoolView of(Pool p) {
            return of(p, null);
        }

        static PoolView of(Pool p, List<ServerView> serverList) {
            String href = "/pools/" + p.name();
            return new PoolView(p.name(), PoolSettingsJson.view(p.settings()), p.size(),
                    List.of(new Link("self", href, "GET"), new Link("update", href, "PATCH"),
                            new Link("servers", href + "/servers", "GET")), serverList);
        }
    }

    public record PoolList(List<PoolView> pools, List<Link> links) {
    }

    @GET
    @Operation(summary = "List the pools; with expand=servers, each with its servers as GET /pools/{name}/servers lists them"
            + " (one read of one state, for a view of every pool)")
    @APIResponse(responseCode = "400", description = "expand is not servers")
    public PoolList list(@QueryParam("expand") String expand) {
        // One call for every pool's servers: a dashboard polling a thousand pools would otherwise send a thousand calls.
        boolean withServers = expand != null;
        if (withServers && !expand.equals("servers")) {
            throw ApiException.badRequest("expand can only be servers, not '" + expand + "'");
        }
        return new PoolList(service.current().pools().stream()
                .map(p -> PoolView.of(p, withServers ? servers.views(p, base(p.name())) : null)).toList(),
                List.of(new Link("self", "/pools", "GET"), new Link("add", "/pools", "POST")));
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "One pool and its settings")
    @APIResponse(responseCode = "404", description = "No such pool")
    public PoolView get(@PathParam("name") String name) {
        return PoolView.of(PoolServers.existing(service.current(), name));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Create a pool: {\"name\": \"api\", \"policy\": \"least-requests\", ...}")
    @APIResponse(responseCode = "201", description = "Created")
    @APIResponse(responseCode = "400", description = "Bad JSON, name or settings (protocol http1, h2 or h2c; a gRPC health check"
            + " needs h2 or h2c); invalid_certificate for a tls.ca that holds no PEM certificate")
    @APIResponse(responseCode = "409", description = "A pool of that name exists")
    @APIResponse(responseCode = "413", description = "Body over the admin limit (64 KiB)")
    public CompletionStage<Response> create(String body, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        Set<String> allowed = new HashSet<>(PoolSettingsJson.FIELDS);
        allowed.add("name");
        JsonNode node = Bodies.object(body, "{\"name\": \"api\", \"policy\": \"round-robin\"}", allowed,
                "a pool has a name, a policy, hashOn, protocol, healthCheck, outlier, limits and tls");
        String name = Bodies.text(node, "name", true);
        if (!name.matches(NAME)) {
            throw ApiException.badRequest("name must be 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit");
        }
        PoolSettings settings = PoolSettingsJson.read(node, PoolSettings.DEFAULTS);
        return route.run(new LeaderRoute.Call("POST", LeaderRoute.path("pools"), body, authorization, forwardedBy),
                actor -> service.submit(new PoolCommand.CreatePool(name, settings), actor).thenApply(outcome -> {
                    if (outcome.result() == Outcome.Result.ALREADY_EXISTS) {
                        throw new ApiException(409, "conflict", "pool " + name + " already exists");
                    }
                    if (outcome.result() == Outcome.Result.TOO_MANY) {
                        throw new ApiException(400, "too_many", "a cluster holds at most " + Topology.MAX_POOLS + " pools");
                    }
                    return Response.status(201).header("Location", "/pools/" + name)
                            .entity(PoolView.of(outcome.topology().pool(name))).build();
                }));
    }

    @PATCH
    @Path("/{name}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Change a pool's settings; what is left out keeps its value",
            description = "e.g. {\"tls\": {\"ca\": \"<PEM>\", \"serverName\": \"api.internal\"}} to verify https:// servers"
                    + " against a private CA under another name, or {\"tls\": {\"verify\": false}} to stop verifying them;"
                    + " {\"protocol\": \"h2c\", \"healthCheck\": {\"mode\": \"grpc\"}} for gRPC servers on http:// (h2 for https://)")
    @APIResponse(responseCode = "200", description = "The pool as stored")
    @APIResponse(responseCode = "400", description = "Bad JSON or settings (a protocol the pool's servers cannot speak: h2 needs https://"
            + " servers, h2c http://; a gRPC health check without h2 or h2c); invalid_certificate for a tls.ca that holds no PEM certificate")
    @APIResponse(responseCode = "413", description = "Body over the admin limit (64 KiB)")
    @APIResponse(responseCode = "404", description = "No such pool")
    public CompletionStage<Response> update(@PathParam("name") String name, String body,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        JsonNode node = Bodies.object(body, "{\"policy\": \"least-requests\"}", PoolSettingsJson.FIELDS,
                "a pool's policy, hashOn, protocol, healthCheck, outlier, limits and tls can be changed");
        return route.run(new LeaderRoute.Call("PATCH", LeaderRoute.path("pools", name), body, authorization, forwardedBy),
                // Read and merged with the pool's current settings on the leader, which has applied every
                // committed change (a follower may not have applied the pool's creation yet, and a
                // setting's validity can depend on the others); the command carries them whole.
                actor -> {
                    PoolSettings settings = PoolSettingsJson.read(node, PoolServers.existing(service.current(), name).settings());
                    return service.submit(new PoolCommand.UpdatePool(name, settings), actor).thenApply(outcome -> {
                        if (outcome.result() == Outcome.Result.NO_SUCH_POOL) {
                            throw new ApiException(404, "not_found", "pool " + name + " does not exist");
                        }
                        if (outcome.result() == Outcome.Result.WRONG_SCHEME) {
                            throw ApiException.badRequest(PoolSettingsJson.schemeProblem(settings.protocol(), outcome.server()));
                        }
                        return Response.ok(PoolView.of(outcome.topology().pool(name))).build();
                    });
                });
    }

    @DELETE
    @Path("/{name}")
    @Operation(summary = "Delete a pool that no route uses (the default pool cannot be deleted)")
    @APIResponse(responseCode = "204", description = "Deleted")
    @APIResponse(responseCode = "404", description = "No such pool")
    @APIResponse(responseCode = "409", description = "The default pool, or a pool a route uses")
    public CompletionStage<Response> delete(@PathParam("name") String name,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        if (!name.matches(NAME)) {
            throw new ApiException(404, "not_found", "pool " + name + " does not exist");
        }
        return route.run(new LeaderRoute.Call("DELETE", LeaderRoute.path("pools", name), null, authorization, forwardedBy),
                actor -> service.submit(new PoolCommand.DeletePool(name), actor).thenApply(outcome -> switch (outcome.result()) {
                    case NO_SUCH_POOL -> throw new ApiException(404, "not_found", "pool " + name + " does not exist");
                    case IN_USE -> throw new ApiException(409, "in_use", name.equals(Pool.DEFAULT)
                            ? "the default pool cannot be deleted" : "pool " + name + " is the target of a route; delete the route first");
                    default -> Response.noContent().build();
                }));
    }

    @GET
    @Path("/{name}/servers")
    @Operation(summary = "The servers of a pool")
    public CompletionStage<PoolServers.ServerList> servers(@PathParam("name") String name,
                                                           @QueryParam("consistent") String consistent) {
        return servers.list(name, base(name), PoolServers.consistent(consistent));
    }

    @GET
    @Path("/{name}/servers/{ip}/{port}")
    @Operation(summary = "One server of a pool")
    public ServerView server(@PathParam("name") String name, @PathParam("ip") String ip, @PathParam("port") String port) {
        return servers.get(name, base(name), ip, port);
    }

    @POST
    @Path("/{name}/servers")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add a server to a pool")
    @APIResponse(responseCode = "400", description = "Bad JSON, URL or weight, or a scheme the pool's protocol cannot speak"
            + " (h2 needs https://, h2c http://)")
    public CompletionStage<Response> addServer(@PathParam("name") String name, String body,
                                               @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                               @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        return servers.add(name, base(name), body, new LeaderRoute.Call("POST", LeaderRoute.path("pools", name, "servers"), body, authorization, forwardedBy));
    }

    @PATCH
    @Path("/{name}/servers/{ip}/{port}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Change a server's weight and/or drain it")
    public CompletionStage<Response> updateServer(@PathParam("name") String name, @PathParam("ip") String ip,
                                                  @PathParam("port") String port, String body,
                                                  @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                                  @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        String path = LeaderRoute.path("pools", name, "servers", ip, port);
        return servers.update(name, base(name), ip, port, body, new LeaderRoute.Call("PATCH", path, body, authorization, forwardedBy));
    }

    @DELETE
    @Path("/{name}/servers/{ip}/{port}")
    @Operation(summary = "Remove a server from a pool")
    public CompletionStage<Response> removeServer(@PathParam("name") String name, @PathParam("ip") String ip,
                                                  @PathParam("port") String port,
                                                  @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                                  @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        String path = LeaderRoute.path("pools", name, "servers", ip, port);
        return servers.remove(name, ip, port, new LeaderRoute.Call("DELETE", path, null, authorization, forwardedBy));
    }

    private static String base(String name) {
        return "/pools/" + name + "/servers";
    }
}
