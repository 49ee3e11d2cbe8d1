package dev.weldr.admin;

import jakarta.ws.rs.core.Response;

/** A client mistake or a refused request, answered with its status and an {@link ApiError} body. */
public class ApiException extends RuntimeException {

    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "bad_request", message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Response toResponse() {
        return Errors.response(status, code, getMessage());
    }
}
