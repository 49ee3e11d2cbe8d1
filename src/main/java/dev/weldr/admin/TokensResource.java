package dev.weldr.admin;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The token a call presents, as this node knows it: a client (the dashboard) learns whether it may
 * change anything without trying a change. Never the secret.
 */
@Path("/tokens")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "tokens", description = "The admin token a call presents")
public class TokensResource {

    @Inject
    Caller caller;

    /** {@code name}: the token's name ({@code anonymous} on a node that requires none); {@code scope}: read or admin. */
    public record Self(String name, String scope) {
    }

    @GET
    @Path("/self")
    @Operation(summary = "The name and scope (read or admin) of the token this call presents; "
            + "on a node that requires no token, anonymous with the scope admin")
    @APIResponse(responseCode = "200", description = "The token's name and scope")
    @APIResponse(responseCode = "401", description = "No token, or not a valid one, on a node that requires one")
    public Self self() {
        return new Self(caller.token(), caller.scope().toString());
    }
}
