package dev.weldr.raft;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a refused peer's claimed id may put into this node's log and answers. */
class IdentityCheckTest {

    @Test
    void shouldQuoteAClaimedIdOnOneShortLine() {
        assertEquals("10.0.0.1:8688", IdentityCheck.printable("10.0.0.1:8688"));
        assertEquals("10.0.0.1:8688??12:00:00 INFO  forged", IdentityCheck.printable("10.0.0.1:8688\r\n12:00:00 INFO  forged"));
        assertEquals("h?st:1", IdentityCheck.printable("h\u00e9st:1"));
        String quoted = IdentityCheck.printable("x".repeat(5000));
        assertEquals("x".repeat(100) + "...", quoted);
    }
}
