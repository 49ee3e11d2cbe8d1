package dev.weldr.admin;

import jakarta.ws.rs.ProcessingException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When forwarding to the leader fails, only a call that never left this node is known not to have been applied. */
class LeaderRouteTest {

    @Test
    void shouldKnowThatARefusedOrUnroutableConnectionSentNothing() {
        assertTrue(LeaderRoute.neverSent(new ProcessingException(new ConnectException("Connection refused"))));
        assertTrue(LeaderRoute.neverSent(new ProcessingException(new NoRouteToHostException("No route to host"))));
    }

    @Test
    void shouldNotKnowWhatHappenedWhenTheConnectionBrokeAfterwards() {
        assertFalse(LeaderRoute.neverSent(new ProcessingException(new IOException("Connection was closed"))));
        assertFalse(LeaderRoute.neverSent(new IOException("Connection reset by peer")));
    }
}
