package dev.weldr.admin;

import dev.weldr.events.EventLog;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.List;

/**
 * What this node saw happen (health changes, ejections, elections, the virtual IP): observed
 * state, each node its own, unlike the replicated {@code GET /audit} of changes asked for.
 */
@Path("/events")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "events", description = "What this node saw happen: health changes, ejections, elections, the virtual IP")
public class EventsResource {

    static final int DEFAULT_LIMIT = 50;

    @Inject
    EventLog log;

    /**
     * One event: {@code time} when this node saw it and {@code until} when an ejection ends (ISO-8601,
     * UTC, null for other kinds); {@code pool} and {@code server} for a server's events, {@code node}
     * for the cluster's (the new leader; this node for the virtual IP).
     */
    public record EventView(long id, String time, String kind, String pool, String server, String node, String detail,
                            String until) {
        static EventView of(EventLog.Event e) {
            return new EventView(e.id(), Instant.ofEpochMilli(e.timeMillis()).toString(), e.kind().wire(), e.pool(), e.server(),
                    e.node(), e.detail(), e.untilMillis() == 0 ? null : Instant.ofEpochMilli(e.untilMillis()).toString());
        }
    }

    public record EventsPage(List<EventView> events) {
    }

    @GET
    @Operation(summary = "This node's recent events, newest first: limit (1-" + EventLog.CAPACITY + ", default " + DEFAULT_LIMIT
            + ") of the last " + EventLog.CAPACITY + " it kept. Kinds: down, up, ejected, readmitted, leader, no-leader, "
            + "vip-taken, vip-released")
    @APIResponse(responseCode = "200", description = "The events, newest first")
    @APIResponse(responseCode = "400", description = "limit is not a whole number from 1 to " + EventLog.CAPACITY)
    public EventsPage list(@QueryParam("limit") String limit) {
        int n = limit == null ? DEFAULT_LIMIT : AuditResource.number(limit, "limit", 1, EventLog.CAPACITY);
        return new EventsPage(log.newest(n).stream().map(EventView::of).toList());
    }
}
