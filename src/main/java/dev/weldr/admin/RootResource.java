package dev.weldr.admin;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.List;

/** The entry point: what this is and where to go. */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "root")
public class RootResource {

    public record Root(String about, List<Link> links) {
    }

    private static final Root ROOT = new Root(
            "weldr: a reverse proxy whose pool is driven by this API and replicated with Raft",
            List.of(new Link("servers", "/servers", "GET"),
                    new Link("add-server", "/servers", "POST"),
                    new Link("pools", "/pools", "GET"),
                    new Link("routes", "/routes", "GET"),
                    new Link("certificates", "/certificates", "GET"),
                    new Link("cluster", "/cluster", "GET"),
                    new Link("audit", "/audit", "GET"),
                    new Link("events", "/events", "GET"),
                    new Link("stats", "/stats", "GET"),
                    new Link("stats-detail", "/stats/detail", "GET"),
                    new Link("openapi", "/q/openapi", "GET"),
                    new Link("health-live", "/q/health/live", "GET"),
                    new Link("health-ready", "/q/health/ready", "GET"),
                    new Link("metrics", "/q/metrics", "GET")));

    @GET
    @Operation(summary = "What this API is, with links to its resources")
    public Root root() {
        return ROOT;
    }
}
