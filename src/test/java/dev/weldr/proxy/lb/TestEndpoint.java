package dev.weldr.proxy.lb;

import java.util.ArrayList;
import java.util.List;

/** A server as a policy sees it, with a weight and a load the test sets. */
final class TestEndpoint implements Endpoint {

    private final String id;
    int weight;
    int inFlight;

    TestEndpoint(String id, int weight) {
        this.id = id;
        this.weight = weight;
    }

    TestEndpoint(String id) {
        this(id, 1);
    }

    /** {@code n} servers of weight 1, 10.0.x.y:8080. */
    static List<TestEndpoint> servers(int n) {
        List<TestEndpoint> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(new TestEndpoint("10.0." + (i / 250) + "." + (i % 250 + 1) + ":8080"));
        }
        return list;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int weight() {
        return weight;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return id;
    }
}
