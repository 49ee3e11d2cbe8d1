package dev.weldr.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.weldr.cluster.ClusterException;
import dev.weldr.cluster.NoLeaderException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Maps every failure of the admin API to a JSON {@link ApiError}. Client mistakes get their
 * 4xx and never a stack trace; only a real fault of weldr's is a 5xx, logged once.
 */
public class Errors {

    private static final Logger LOG = Logger.getLogger(Errors.class);

    static Response response(int status, String code, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ApiError(code, message)).build();
    }

    @ServerExceptionMapper
    public Response api(ApiException e) {
        return e.toResponse();
    }

    @ServerExceptionMapper
    public Response noLeader(NoLeaderException e) {
        return Response.status(503).type(MediaType.APPLICATION_JSON_TYPE)
                .header("Retry-After", "1")
                .entity(new ApiError("no_leader", e.getMessage())).build();
    }

    @ServerExceptionMapper
    public Response cluster(ClusterException e) {
        return switch (e.kind()) {
            case BAD_PEER -> response(400, "bad_request", e.getMessage());
            case ALREADY_MEMBER -> response(409, "already_member", e.getMessage());
            case NOT_MEMBER -> response(404, "not_member", e.getMessage());
            case NOT_CAUGHT_UP -> response(409, "peer_not_caught_up", e.getMessage());
            case BUSY -> Response.fromResponse(response(409, "busy", e.getMessage())).header("Retry-After", "1").build();
        };
    }

    @ServerExceptionMapper
    public Response badJson(JsonProcessingException e) {
        return response(400, "bad_json", "the body is not valid JSON: " + e.getOriginalMessage());
    }

    /** The client's body could not be read (the connection broke while it was sent). */
    @ServerExceptionMapper(priority = 1)
    public Response io(java.io.IOException e) {
        return response(400, "bad_request", "the request body could not be read");
    }

    @ServerExceptionMapper(priority = 1)
    public Response notFound(NotFoundException e) {
        return response(404, "not_found", "no such resource");
    }

    @ServerExceptionMapper(priority = 1)
    public Response notAllowed(NotAllowedException e, UriInfo uri) {
        return Response.fromResponse(response(405, "method_not_allowed", "this method is not allowed on this resource"))
                .header("Allow", String.join(", ", AllowedMethods.of(uri.getPath()))).build();
    }

    @ServerExceptionMapper(priority = 1)
    public Response notSupported(NotSupportedException e) {
        return response(415, "unsupported_media_type", "the body must be application/json");
    }

    @ServerExceptionMapper(priority = 1)
    public Response notAcceptable(NotAcceptableException e) {
        return response(406, "not_acceptable", "this resource answers application/json");
    }

    @ServerExceptionMapper(priority = 2)
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        if (status == 413) {
            return response(413, "body_too_large", "the body is larger than the admin API accepts");
        }
        if (status >= 500) {
            LOG.errorf(e, "admin API failure");
            return response(status, "internal_error", "weldr failed to handle this request");
        }
        return response(status, "bad_request", e.getMessage() == null ? "the request was not understood" : e.getMessage());
    }

    @ServerExceptionMapper(priority = 10)
    public Response unexpected(Throwable e) {
        // Failures of asynchronous calls arrive wrapped (CompletionException).
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ApiException api) {
                return api.toResponse();
            }
            if (c instanceof NoLeaderException nl) {
                return noLeader(nl);
            }
            if (c instanceof ClusterException ce) {
                return cluster(ce);
            }
        }
        LOG.errorf(e, "admin API failure");
        return response(500, "internal_error", "weldr failed to handle this request");
    }
}
