package dev.weldr.pool;

/**
 * One committed change in the audit log, replicated with the change itself: the same record on
 * every replica. It names things and never holds key material: a certificate is described by its
 * name, names, expiry and fingerprint.
 *
 * @param id      the Raft log index of the change (0 while the record travels in its log entry,
 *                before it is applied): unique, and ordered as the changes were
 * @param time    when the leader proposed the change, Unix milliseconds (its clock, written into
 *                the entry, so every replica shows the same time)
 * @param token   the name of the token the call presented ({@code anonymous} on a node that needs none)
 * @param node    the Raft id of the node that took the call: the follower that forwarded it, or the leader
 * @param action  what was done, e.g. {@code add-server}, {@code put-certificate}, {@code add-member}
 * @param target  what it was done to, e.g. {@code default/127.0.0.1:8001}
 * @param summary the change in a sentence
 */
public record AuditEntry(long id, long time, String token, String node, String action, String target, String summary) {

    /** This record as committed at log index {@code index}. */
    public AuditEntry at(long index) {
        return new AuditEntry(index, time, token, node, action, target, summary);
    }
}
