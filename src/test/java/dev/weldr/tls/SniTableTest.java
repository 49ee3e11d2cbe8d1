package dev.weldr.tls;

import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SniTableTest {

    private static final SslContext REFUSING = ServerContexts.refusing(1000);
    private static final Instant NOW = Instant.now();

    private static SniTable.Served served(String name, Instant notAfter, String... names) {
        return new SniTable.Served(name, new CertificateBundle.Info(List.of(names), "CN=" + name, "CN=ca", NOW, notAfter,
                "00", "ECDSA P-256"), null);
    }

    private final SniTable.Served exact = served("exact", NOW.plus(Duration.ofDays(10)), "www.shop.example");
    private final SniTable.Served wildcard = served("wildcard", NOW.plus(Duration.ofDays(10)), "*.shop.example", "shop.example");
    private final SniTable.Served fallback = served("fallback", NOW.plus(Duration.ofDays(10)), "default.example");

    @Test
    void shouldPreferTheExactNameThenTheWildcardThenTheDefault() {
        SniTable t = new SniTable(List.of(exact, wildcard, fallback), "fallback", REFUSING);
        assertSame(exact, t.find("www.shop.example"));
        assertSame(exact, t.find("WWW.Shop.Example."));
        assertSame(wildcard, t.find("cart.shop.example"));
        assertSame(wildcard, t.find("shop.example"));
        assertSame(fallback, t.find("a.cart.shop.example"), "a wildcard covers one label");
        assertSame(fallback, t.find("elsewhere.example"));
        assertSame(fallback, t.find(null));
        assertTrue(t.served("exact"));
        assertFalse(t.served("nothing"));
    }

    @Test
    void shouldRefuseWhatNothingCoversWithoutADefault() {
        SniTable t = new SniTable(List.of(exact, wildcard), "", REFUSING);
        assertNull(t.find("elsewhere.example"));
        assertSame(REFUSING, t.select("elsewhere.example"));
        assertSame(REFUSING, t.select(null));
        SniTable named = new SniTable(List.of(exact), "missing", REFUSING);
        assertSame(REFUSING, named.select("elsewhere.example"), "a default that does not exist refuses");
    }

    @Test
    void shouldServeTheCertificateValidLongestWhereTwoNameTheSameHost() {
        SniTable.Served old = served("old", NOW.plus(Duration.ofDays(3)), "shop.example");
        SniTable.Served renewed = served("renewed", NOW.plus(Duration.ofDays(90)), "shop.example");
        assertEquals("renewed", new SniTable(List.of(old, renewed), "", REFUSING).find("shop.example").name());
        assertEquals("renewed", new SniTable(List.of(renewed, old), "", REFUSING).find("shop.example").name());
    }
}
