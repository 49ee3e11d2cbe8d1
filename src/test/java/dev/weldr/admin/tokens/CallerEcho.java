package dev.weldr.admin.tokens;

import dev.weldr.admin.Caller;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * Test-only resource under a protected path: answers the name {@link Caller} holds for the call,
 * as the audit log reads it, so that a test sees which token the filter identified.
 */
@Path("/stats/caller-for-tests")
@Produces(MediaType.TEXT_PLAIN)
public class CallerEcho {

    @Inject
    Caller caller;

    @GET
    public String read() {
        return caller.token();
    }

    @POST
    public String write() {
        return caller.token();
    }
}
