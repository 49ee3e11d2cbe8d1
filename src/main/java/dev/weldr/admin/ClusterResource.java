package dev.weldr.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weldr.cluster.PoolHolder;
import dev.weldr.cluster.ClusterService;
import dev.weldr.cluster.Leadership;
import dev.weldr.config.WeldrConfig;
import dev.weldr.ha.HaHooks;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** The Raft group: who leads, who is a member, and changes to both. */
@Path("/cluster")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "cluster", description = "Members and leadership of the weldr cluster")
public class ClusterResource {

    @Inject
    PoolHolder holder;
    @Inject
    ClusterService cluster;
    @Inject
    Leadership leadership;
    @Inject
    LeaderRoute route;
    @Inject
    WeldrConfig config;
    @Inject
    HaHooks ha;

    public record Peer(String id, String role, String admin) {
    }

    /**
     * {@code appliedIndex}: the Raft index of the last change this node applied (and serves);
     * {@code leaderSince}: when this node last saw the leader or term change (the last election as
     * it knows it), null before it saw one; {@code vip}: null without a virtual IP.
     */
    public record ClusterView(String cluster, String self, String leader, long term, String mode, long appliedIndex,
                              Instant leaderSince, Vip vip, List<Peer> peers) {
    }

    /** The virtual IP the leader takes, and whether this node has it on its interface now. */
    public record Vip(String address, boolean heldHere) {
    }

    @GET
    @Operation(summary = "This node's view of the cluster: its id, the leader, the term, when it last saw them change, "
            + "the virtual IP and whether this node holds it, and the members")
    public ClusterView view() {
        Leadership.State state = leadership.state();
        List<Peer> peers = cluster.members().stream()
                .map(id -> new Peer(id, id.equals(state.leaderId()) ? "leader" : "follower", cluster.adminUrlOf(id)))
                .toList();
        String vip = ha.vipAddress();
        return new ClusterView(cluster.clusterId(), cluster.selfId(), state.leaderId(), state.term(),
                config.ha().mode().name().toLowerCase().replace('_', '-'), holder.current().appliedIndex(),
                leadership.changedAt(), vip == null ? null : new Vip(vip, ha.holdsVip()), peers);
    }

    @POST
    @Path("/peers")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Add a node (its Raft address host:port) as a voting member; answered once committed. "
            + "Start the new node with weldr.raft.join so that it does not start a cluster of its own.")
    @APIResponse(responseCode = "200", description = "The node is a member")
    @APIResponse(responseCode = "400", description = "Bad JSON or not host:port")
    @APIResponse(responseCode = "409", description = "Already a member, or the node did not catch up (not running or not reachable)")
    public CompletionStage<Response> addPeer(String body, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                             @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        String peer = peerOf(body);
        return route.run(new LeaderRoute.Call("POST", LeaderRoute.path("cluster", "peers"), body, authorization, forwardedBy),
                actor -> cluster.addPeer(peer, actor).thenApply(v -> Response.ok(view()).build()));
    }

    @DELETE
    @Path("/peers/{host}/{port}")
    @Operation(summary = "Remove a member; answered once committed")
    @APIResponse(responseCode = "204", description = "Removed")
    @APIResponse(responseCode = "404", description = "Not a member")
    public CompletionStage<Response> removePeer(@PathParam("host") String host, @PathParam("port") String port,
                                                @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                                @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        String peer = checked(host + ":" + port);
        return route.run(new LeaderRoute.Call("DELETE", LeaderRoute.path("cluster", "peers", host, port), null, authorization, forwardedBy),
                actor -> cluster.removePeer(peer, actor).thenApply(v -> Response.noContent().build()));
    }

    @POST
    @Path("/leader")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Hand leadership to a member; answered once it leads")
    @APIResponse(responseCode = "200", description = "The member leads")
    @APIResponse(responseCode = "400", description = "Bad JSON or not host:port")
    @APIResponse(responseCode = "404", description = "Not a member")
    public CompletionStage<Response> transfer(String body, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                              @HeaderParam(LeaderRoute.FORWARDED_HEADER) String forwardedBy) {
        String peer = peerOf(body);
        return route.run(new LeaderRoute.Call("POST", LeaderRoute.path("cluster", "leader"), body, authorization, forwardedBy),
                actor -> cluster.transferLeadership(peer, config.raft().electionTimeout().multipliedBy(3), actor)
                        .thenApply(leader -> Response.ok(view()).build()));
    }

    private static String peerOf(String body) {
        JsonNode node = Json.parse(body);
        if (!node.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object with a peer, e.g. {\"peer\": \"10.0.0.2:8688\"}");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("peer")) {
                throw ApiException.badRequest("unknown field '" + name + "'; the body has a peer");
            }
        }
        JsonNode peer = node.get("peer");
        if (peer == null || !peer.isTextual()) {
            throw ApiException.badRequest("peer must be a string host:port");
        }
        return checked(peer.asText().trim());
    }

    /**
     * A Raft address as weldr names nodes: a host name or IPv4 address and a port. JRaft's own
     * parser would also take {@code host:port:index:priority}, a form weldr never uses.
     */
    static String checked(String peer) {
        int colon = peer.indexOf(':');
        String port = colon < 0 ? "" : peer.substring(colon + 1);
        if (colon <= 0 || peer.length() > 260 || !peer.substring(0, colon).matches("[A-Za-z0-9._-]+")
                || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw ApiException.badRequest("peer must be host:port, the Raft address of a weldr node");
        }
        return peer;
    }
}
