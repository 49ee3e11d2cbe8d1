package dev.weldr.proxy.lb;

import java.util.Map;

/** A request's hash keys: at most one header and one cookie, and the client address. */
record TestRequest(Map<String, String> headers, Map<String, String> cookies, String clientAddress)
        implements RequestKey {

    static TestRequest from(String clientAddress) {
        return new TestRequest(Map.of(), Map.of(), clientAddress);
    }

    TestRequest withHeader(String name, String value) {
        return new TestRequest(Map.of(name, value), cookies, clientAddress);
    }

    TestRequest withCookie(String name, String value) {
        return new TestRequest(headers, Map.of(name, value), clientAddress);
    }

    @Override
    public String header(String name) {
        return headers.get(name);
    }

    @Override
    public String cookie(String name) {
        return cookies.get(name);
    }
}
