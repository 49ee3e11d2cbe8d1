package dev.weldr.pool;

/** A change to the desired state. Commands go through the Raft log and are applied by {@link Topology#apply}. */
public sealed interface PoolCommand {

    record AddServer(String pool, Server server) implements PoolCommand {
    }

    record RemoveServer(String pool, ServerKey key) implements PoolCommand {
    }

    /** Changes weight and/or drain; a null field is left as it is. */
    record UpdateServer(String pool, ServerKey key, Integer weight, Boolean draining) implements PoolCommand {
    }

    record CreatePool(String name, PoolSettings settings) implements PoolCommand {
    }

    record UpdatePool(String name, PoolSettings settings) implements PoolCommand {
    }

    /** Removes a pool, which must not be the default pool nor the target of a route. */
    record DeletePool(String name) implements PoolCommand {
    }

    /** Adds a route, or replaces the route of the same name; its pool must exist. */
    record PutRoute(Route route) implements PoolCommand {
    }

    record DeleteRoute(String name) implements PoolCommand {
    }

    /**
     * Records where a node's admin API answers, so that followers can forward writes to the
     * leader. A leader registers itself when it takes office if the record is missing or stale.
     */
    record RegisterNode(String nodeId, String adminUrl) implements PoolCommand {
    }

    /**
     * Adds a certificate, or replaces the certificate of the same name; a certificate managed
     * through ACME under that name becomes an uploaded one (its order is dropped).
     */
    record PutCertificate(Certificate certificate) implements PoolCommand {
    }

    /** Removes a certificate, uploaded or managed, with its order. */
    record DeleteCertificate(String name) implements PoolCommand {
    }

    /**
     * Makes a certificate managed through ACME for these names, or changes its names. The same
     * names again change nothing (an order under way goes on). A certificate already stored under
     * that name is served until the new one is issued.
     */
    record PutManagedCertificate(ManagedCertificate managed) implements PoolCommand {
    }

    /**
     * The leader's progress on a managed certificate: its next state, and the certificate when
     * one was issued. Applied only while the same request stands (same names, same generation),
     * so a change or a removal committed in between wins over work done for the old request.
     */
    record AcmeProgress(ManagedCertificate managed, Certificate issued) implements PoolCommand {
    }

    /** Records the cluster's ACME account (made by the leader when the first managed certificate needs it). */
    record PutAcmeAccount(AcmeAccount account) implements PoolCommand {
    }

    /** Puts a new session-ticket key first, the one that encrypts; the oldest past {@link Topology#MAX_TICKET_KEYS} goes. */
    record AddTicketKey(TicketKey key) implements PoolCommand {
    }

    /**
     * Changes no state: its log entry's audit record is the change. The leader commits one before a
     * change that is not a pool command (a member added or removed, leadership handed over), so
     * that the request is in the audit log before it is carried out.
     */
    record RecordAudit() implements PoolCommand {
    }
}
