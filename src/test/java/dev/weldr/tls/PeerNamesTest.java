package dev.weldr.tls;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerNamesTest {

    private static final TestCertificates.Issued CA = TestCertificates.ca("Names CA");

    @Test
    void shouldMatchADnsNameWhateverItsCase() {
        var cert = TestCertificates.server(CA, List.of("Node-1.Weldr.Example"), List.of()).certificate();
        assertTrue(PeerNames.covers(cert, "node-1.weldr.example"));
        assertTrue(PeerNames.covers(cert, "NODE-1.WELDR.EXAMPLE."));
        assertFalse(PeerNames.covers(cert, "node-2.weldr.example"));
        assertFalse(PeerNames.covers(cert, "weldr.example"));
    }

    @Test
    void shouldLetAWildcardStandForExactlyTheLeftMostLabel() {
        var cert = TestCertificates.server(CA, List.of("*.weldr.example"), List.of()).certificate();
        assertTrue(PeerNames.covers(cert, "node-1.weldr.example"));
        assertFalse(PeerNames.covers(cert, "weldr.example"), "not the parent itself");
        assertFalse(PeerNames.covers(cert, "a.node-1.weldr.example"), "one label only");
        assertFalse(PeerNames.covers(cert, "127.0.0.1"), "never an address");
    }

    @Test
    void shouldRefuseWildcardsThatAreNotAWholeLeftMostLabelOrCoverATopLevelDomain() {
        assertFalse(PeerNames.dnsMatches("n*.weldr.example", "node.weldr.example"));
        assertFalse(PeerNames.dnsMatches("*.*.example", "a.b.example"));
        assertFalse(PeerNames.dnsMatches("*.example", "weldr.example"));
        assertFalse(PeerNames.dnsMatches("node.*.example", "node.weldr.example"));
    }

    @Test
    void shouldMatchAnAddressOnlyAgainstAnIpAddressName() {
        var byAddress = TestCertificates.server(CA, List.of(), List.of("10.0.0.7", "::1")).certificate();
        assertTrue(PeerNames.covers(byAddress, "10.0.0.7"));
        assertTrue(PeerNames.covers(byAddress, "[0:0:0:0:0:0:0:1]"));
        assertFalse(PeerNames.covers(byAddress, "10.0.0.8"));
        var byName = TestCertificates.server(CA, List.of("10.0.0.7"), List.of()).certificate();
        assertFalse(PeerNames.covers(byName, "10.0.0.7"), "an address written as a DNS name is not an IP address name");
    }

    @Test
    void shouldCoverNothingWithoutAHost() {
        var cert = TestCertificates.server(CA, List.of("node.weldr.example"), List.of("127.0.0.1")).certificate();
        assertFalse(PeerNames.covers(cert, null));
        assertFalse(PeerNames.covers(cert, ""));
        assertFalse(PeerNames.covers(cert, "300.0.0.1"));
    }
}
