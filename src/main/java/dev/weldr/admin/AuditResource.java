package dev.weldr.admin;

import dev.weldr.cluster.PoolService;
import dev.weldr.pool.AuditEntry;
import dev.weldr.pool.Topology;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The audit log: every committed change, with the token that asked for it, the node that took
 * the call and the leader's time, replicated like the pool (any node answers) and bounded to the
 * newest {@link Topology#MAX_AUDIT} entries.
 */
@Path("/audit")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "audit", description = "Who changed what, when, and through which node")
public class AuditResource {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;

    @Inject
    PoolService service;

    /**
     * One change: {@code id} is its Raft log index (unique, increasing), {@code time} the leader's
     * clock when it proposed it (ISO-8601, UTC).
     */
    public record EntryView(long id, String time, String token, String node, String action, String target, String summary) {
        static EntryView of(AuditEntry a) {
            return new EntryView(a.id(), Instant.ofEpochMilli(a.time()).toString(), a.token(), a.node(), a.action(), a.target(),
                    a.summary());
        }
    }

    /** A page, newest first; {@code next} is the path of the page of older entries, or null at the oldest kept. */
    public record AuditPage(List<EntryView> entries, String next) {
    }

    @GET
    @Operation(summary = "The audit log, newest first: limit (1-" + MAX_LIMIT + ", default " + DEFAULT_LIMIT + ") entries older than"
            + " the id given as before (the next link gives it); with consistent=true, after everything acknowledged so far")
    @APIResponse(responseCode = "200", description = "A page of entries, and the path of the next (older) page")
    @APIResponse(responseCode = "400", description = "limit, before or consistent is not valid")
    @APIResponse(responseCode = "503", description = "consistent=true and no leader or no quorum")
    public CompletionStage<AuditPage> list(@QueryParam("limit") String limit, @QueryParam("before") String before,
                                           @QueryParam("consistent") String consistent) {
        int n = limit == null ? DEFAULT_LIMIT : number(limit, "limit", 1, MAX_LIMIT);
        long below = before == null ? Long.MAX_VALUE : number(before, "before", 1, Long.MAX_VALUE);
        CompletionStage<Topology> read = PoolServers.consistent(consistent) ? service.consistent()
                : CompletableFuture.completedFuture(service.current());
        return read.thenApply(t -> page(t.audit(), below, n));
    }

    static AuditPage page(List<AuditEntry> audit, long before, int limit) {
        int end = firstAtOrAbove(audit, before);
        List<EntryView> entries = new ArrayList<>(Math.min(limit, end));
        int i = end - 1;
        for (; i >= 0 && entries.size() < limit; i--) {
            entries.add(EntryView.of(audit.get(i)));
        }
        String next = i >= 0 ? "/audit?before=" + entries.get(entries.size() - 1).id() + "&limit=" + limit : null;
        return new AuditPage(entries, next);
    }

    /** The position of the first entry whose id is at least {@code id} (ids increase along the list). */
    private static int firstAtOrAbove(List<AuditEntry> audit, long id) {
        int lo = 0;
        int hi = audit.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (audit.get(mid).id() < id) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static long number(String value, String name, long min, long max) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest(name + " must be a whole number from " + min + " to " + max + ", not '" + value + "'");
    }

    static int number(String value, String name, int min, int max) {
        return (int) number(value, name, (long) min, (long) max);
    }
}
