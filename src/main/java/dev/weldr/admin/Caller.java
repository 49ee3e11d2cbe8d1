package dev.weldr.admin;

import jakarta.enterprise.context.RequestScoped;

/**
 * Who made the admin call being served: the name of the token it presented, set by
 * {@link TokenFilter} and read by whatever records the call (the audit log).
 */
@RequestScoped
public class Caller {

    /** The name given to calls on a node that requires no token (its admin API listens on loopback only). */
    public static final String ANONYMOUS = "anonymous";

    private String token = ANONYMOUS;
    /** A node that requires no token lets every caller change everything. */
    private Token.Scope scope = Token.Scope.ADMIN;

    /** The name of the token the call presented; {@link #ANONYMOUS} when the node requires none. */
    public String token() {
        return token;
    }

    /** What the call may do: {@code read} or {@code admin}. */
    public Token.Scope scope() {
        return scope;
    }

    void identified(Token presented) {
        this.token = presented.name();
        this.scope = presented.scope();
    }
}
