package dev.weldr.admin;

import dev.weldr.pool.Pool;
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

import java.util.concurrent.CompletionStage;

/** The default pool, weldr-compatible: list, add, change and remove servers. */
@Path("/servers")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "servers", description = "The servers of the default pool")
public class ServersResource {

    private static final String BASE = "/servers";

    @Inject
    PoolServers servers;

    @GET
    @Operation(summary = "List the servers of the default pool, each with its state as this node sees it; "
            + "with consistent=true, after everything acknowledged so far (a linearizable read)")
    @APIResponse(responseCode = "503", description = "consistent=true and no leader or no quorum")
    @APIResponse(responseCode = "400", description = "consistent is neither true nor false")
    public CompletionStage<PoolServers.ServerList> list(@QueryParam("consistent") String consistent) {
        return servers.list(Pool.DEFAULT, BASE, PoolServers.consistent(consistent));
    }

    @GET
    @Path("/{ip}/{port}")
    @Operation(summary = "One server of the default pool")
    @APIResponse(responseCode = "404", description = "Not in the pool")
    public ServerView get(@PathParam("ip") String ip, @PathParam("port") String port) {
        return servers.get(Pool.DEFAULT, BASE, ip, port);
    }

    @POST
    // Any content type: `curl -d` sends form encoding, and the body is JSON whatever it says.
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add a server ({\"url\": ..., optional \"weight\" 1-1000 and \"draining\"}); "
            + "answered once the change is committed and applied")
    @APIResponse(responseCode = "201", description = "Added; Location names the new server")
    @APIResponse(responseCode = "400", description = "Bad JSON, URL or weight, or a scheme the pool's protocol cannot speak"
            + " (h2 needs https://, h2c http://)")
    @APIResponse(responseCode = "409", description = "Already in the pool")
    @APIResponse(responseCode = "413", description = "Body too large")
    @APIResponse(responseCode = "503", description = "No leader; retry after Retry-After seconds")
    public CompletionStage<Response> add(String body, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                         @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        return servers.add(Pool.DEFAULT, BASE, body, new LeaderRoute.Call("POST", LeaderRoute.path("servers"), body, authorization, forwardedBy));
    }

    @PATCH
    @Path("/{ip}/{port}")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Change a server's weight (1-1000) and/or drain it ({\"draining\": true}: no new requests)")
    @APIResponse(responseCode = "200", description = "The server as stored")
    @APIResponse(responseCode = "400", description = "Bad JSON or values")
    @APIResponse(responseCode = "404", description = "Not in the pool")
    public CompletionStage<Response> update(@PathParam("ip") String ip, @PathParam("port") String port, String body,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        return servers.update(Pool.DEFAULT, BASE, ip, port, body,
                new LeaderRoute.Call("PATCH", LeaderRoute.path("servers", ip, port), body, authorization, forwardedBy));
    }

    @DELETE
    @Path("/{ip}/{port}")
    @Operation(summary = "Remove a server; answered once the change is committed and applied")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "Not in the pool")
    public CompletionStage<Response> remove(@PathParam("ip") String ip, @PathParam("port") String port,
                                            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                            @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        return servers.remove(Pool.DEFAULT, ip, port,
                new LeaderRoute.Call("DELETE", LeaderRoute.path("servers", ip, port), null, authorization, forwardedBy));
    }
}
