package dev.weldr.proxy.lb;

/** What every policy reads the same way: a candidate's weight, and which one a retry excludes. */
final class Endpoints {

    private Endpoints() {
    }

    /**
     * The weight a policy uses: at least 1, whatever the endpoint says, so a bad value cannot
     * starve a server or turn a ring or a weighted sum negative.
     */
    static int weight(Endpoint e) {
        return Math.max(1, e.weight());
    }

    /**
     * Whether {@code e} is the excluded server. By identity first, and by id otherwise: a retry
     * may run on a balancer rebuilt since the first attempt, whose candidates are new objects
     * for the same servers.
     */
    static boolean same(Endpoint e, Endpoint exclude) {
        return e == exclude || (exclude != null && e.id().equals(exclude.id()));
    }

    /** Position of the excluded server among {@code servers}, or -1 (also for a null exclude). */
    static int indexOf(Object[] servers, Endpoint exclude) {
        if (exclude == null) {
            return -1;
        }
        for (int i = 0; i < servers.length; i++) {
            if (servers[i] == exclude) {
                return i;
            }
        }
        String id = exclude.id();
        for (int i = 0; i < servers.length; i++) {
            if (((Endpoint) servers[i]).id().equals(id)) {
                return i;
            }
        }
        return -1;
    }
}
