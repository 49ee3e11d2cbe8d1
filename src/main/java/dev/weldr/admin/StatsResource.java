package dev.weldr.admin;

import dev.weldr.proxy.Backend;
import dev.weldr.proxy.BackendRegistry;
import dev.weldr.proxy.LatencyHistogram;
import dev.weldr.proxy.ProxyStats;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Instant;
import java.util.List;

/** What this node's proxy did since it started. */
@Path("/stats")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "stats", description = "Request counters of this node's proxy")
public class StatsResource {

    @Inject
    ProxyStats stats;
    @Inject
    BackendRegistry backends;

    public record Counts(long success, long failed) {
    }

    public record Totals(Counts client, Counts server) {
    }

    /**
     * {@code state} as this node sees it (active, down or draining); {@code ejected}: down because
     * passive checks ejected it, not because active checks fail, and {@code ejectedUntil} when that
     * ejection ends (ISO-8601, UTC; null while not ejected); {@code inFlight}: requests this
     * node's proxy has sent it and not yet had answered; {@code latency}: its requests by duration.
     */
    public record ServerStats(String id, String ip, int port, String pool, long success, long failed, String state,
                              boolean ejected, String ejectedUntil, int inFlight, Latency latency) {
    }

    /**
     * Requests by time from their arrival (for a retry, from the retry) to the end of their answer: {@code counts[i]} took at most
     * {@code boundsMs[i]} ms (and more than the bound before), the last count more than every bound.
     * Counted since the server joined; the difference of two readings gives any window's percentiles.
     */
    public record Latency(List<Integer> boundsMs, long[] counts) {
    }

    @GET
    @Operation(summary = "Client requests answered by a backend (success) or by weldr's own 502/503/504 (failed); "
            + "backend exchanges that gave a response below 500 (success) or failed or gave 5xx (failed)")
    public Totals totals() {
        return new Totals(new Counts(stats.clientSuccess(), stats.clientFailed()),
                new Counts(stats.serverSuccess(), stats.serverFailed()));
    }

    @GET
    @Path("/detail")
    @Operation(summary = "The server-side counters of each server of every pool, with its state, whether passive checks "
            + "ejected it and until when, its requests in flight and its requests by duration (buckets), as this node sees them")
    public List<ServerStats> detail() {
        return backends.all().stream().map(StatsResource::of).toList();
    }

    private static ServerStats of(Backend b) {
        long until = b.ejectedUntilMillis();
        return new ServerStats(b.id(), b.server().host(), b.server().port(), b.pool(), b.successCount(), b.failedCount(),
                b.state(), b.ejected(), until != 0 ? Instant.ofEpochMilli(until).toString() : null, b.inFlight(),
                new Latency(LatencyHistogram.BOUNDS_MS, b.latency().counts()));
    }
}
