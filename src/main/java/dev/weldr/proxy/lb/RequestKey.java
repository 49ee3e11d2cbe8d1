package dev.weldr.proxy.lb;

/** The parts of a client request that a policy may hash on. */
public interface RequestKey {

    /** The first value of a request header, or null. */
    String header(String name);

    /** The value of a cookie, or null. */
    String cookie(String name);

    /** The client's IP address as text. */
    String clientAddress();
}
