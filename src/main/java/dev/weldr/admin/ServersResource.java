package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolService;
import dev.weldr.pool.InvalidServerUrlException;
import dev.weldr.pool.Outcome;
import dev.weldr.pool.Topology;
import dev.weldr.pool.PoolCommand;
import dev.weldr.pool.Server;
import dev.weldr.pool.ServerKey;
import dev.weldr.pool.ServerUrl;
import dev.weldr.proxy.Backend;
import dev.weldr.proxy.BackendRegistry;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The pool, weldr-compatible: list, add and remove servers. */
@Path("/servers")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "servers", description = "The pool of backend servers")
public class ServersResource {

    @Inject
    PoolService pool;
    @Inject
    BackendRegistry backends;
    @Inject
    LeaderRoute route;

    public record ServerList(List<ServerView> servers, List<Link> links) {
    }

    static String path(ServerKey key) {
        return "/servers/" + key.host() + "/" + key.port();
    }

    @GET
    @Operation(summary = "List the servers of the pool, each with its state as this node sees it; "
            + "with consistent=true, after everything acknowledged so far (a linearizable read)")
    @APIResponse(responseCode = "503", description = "consistent=true and no leader or no quorum")
    public CompletionStage<ServerList> list(@QueryParam("consistent") @DefaultValue("false") boolean consistent) {
        CompletionStage<Topology> read = consistent ? pool.consistent() : CompletableFuture.completedFuture(pool.current());
        return read.thenApply(p -> new ServerList(p.servers().stream().map(this::view).toList(),
                List.of(new Link("self", "/servers", "GET"), new Link("add", "/servers", "POST"))));
    }

    @GET
    @Path("/{ip}/{port}")
    @Operation(summary = "One server of the pool")
    @APIResponse(responseCode = "404", description = "Not in the pool")
    public ServerView get(@PathParam("ip") String ip, @PathParam("port") String port) {
        Server server = pool.current().get(key(ip, port));
        if (server == null) {
            throw notInPool(ip, port);
        }
        return view(server);
    }

    @POST
    // Any content type: `curl -d` sends form encoding, and the body is JSON whatever it says.
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add a server; answered once the change is committed and applied")
    @APIResponse(responseCode = "201", description = "Added; Location names the new server")
    @APIResponse(responseCode = "400", description = "Bad JSON or bad URL")
    @APIResponse(responseCode = "409", description = "Already in the pool")
    @APIResponse(responseCode = "413", description = "Body too large")
    @APIResponse(responseCode = "503", description = "No leader; retry after Retry-After seconds")
    public CompletionStage<Response> add(String body,
                                         @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                         @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        Server server = parseNewServer(Json.parse(body));
        LeaderRoute.Call call = new LeaderRoute.Call("POST", "/servers", body, authorization, forwardedBy);
        return route.run(call, () -> pool.submit(new PoolCommand.AddServer(server)).thenApply(outcome -> {
            if (outcome.result() == Outcome.Result.ALREADY_EXISTS) {
                throw new ApiException(409, "conflict", "server " + server.id() + " is already in the pool");
            }
            // A relative Location, as the contract gives it; this runs on the Raft thread, outside the request.
            return Response.status(201).header("Location", path(server.key())).entity(view(outcome.server())).build();
        }));
    }

    @DELETE
    @Path("/{ip}/{port}")
    @Operation(summary = "Remove a server; answered once the change is committed and applied")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "Not in the pool")
    public CompletionStage<Response> remove(@PathParam("ip") String ip, @PathParam("port") String port,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        ServerKey key = key(ip, port);
        LeaderRoute.Call call = new LeaderRoute.Call("DELETE", path(key), null, authorization, forwardedBy);
        return route.run(call, () -> pool.submit(new PoolCommand.RemoveServer(key)).thenApply(outcome -> {
            if (outcome.result() == Outcome.Result.NOT_FOUND) {
                throw notInPool(ip, port);
            }
            return Response.noContent().build();
        }));
    }

    private ServerView view(Server server) {
        Backend backend = backends.get(server.key());
        return ServerView.of(server, backend == null ? "active" : backend.state());
    }

    private static ApiException notInPool(String ip, String port) {
        return new ApiException(404, "not_found", "server " + ip + ":" + port + " is not in the pool");
    }

    private static ServerKey key(String ip, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return new ServerKey(ip, p);
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw new ApiException(404, "not_found", "server " + ip + ":" + port + " is not in the pool");
    }

    private static Server parseNewServer(JsonNode body) {
        if (body == null || body.isNull() || body.isMissingNode()) {
            throw ApiException.badRequest("the body must be a JSON object with a url, e.g. {\"url\": \"http://127.0.0.1:8000\"}");
        }
        if (!body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object, not " + body.getNodeType().name().toLowerCase());
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("url")) {
                throw ApiException.badRequest("unknown field '" + name + "'; a server has a url");
            }
        }
        JsonNode url = body.get("url");
        if (url == null || url.isNull()) {
            throw ApiException.badRequest("url is required");
        }
        if (!url.isTextual()) {
            throw ApiException.badRequest("url must be a string");
        }
        try {
            return Server.of(ServerUrl.parse(url.asText()));
        } catch (InvalidServerUrlException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }
}
