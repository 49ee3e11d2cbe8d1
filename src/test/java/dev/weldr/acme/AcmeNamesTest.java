package dev.weldr.acme;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcmeNamesTest {

    @Test
    void shouldLowerCaseAndDropRepeatsInTheOrderGiven() {
        assertEquals(List.of("shop.example", "www.shop.example"), AcmeNames.check(List.of("Shop.Example", "www.shop.example", "SHOP.example")));
    }

    @Test
    void shouldRefuseWhatNoHttpChallengeCanValidate() {
        assertTrue(message(List.of("*.shop.example")).contains("wildcard"));
        assertTrue(message(List.of("shop_example.com")).contains("not a DNS name"));
        assertTrue(message(List.of("localhost")).contains("two labels"));
        assertTrue(message(List.of("192.168.1.10")).contains("IP address"));
        assertTrue(message(List.of("shop.example.")).contains("not a DNS name"));
        assertTrue(message(List.of()).contains("at least one"));
    }

    @Test
    void shouldRefuseMoreNamesThanACertificateMayHave() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= AcmeNames.MAX; i++) {
            names.add("n" + i + ".example");
        }
        assertTrue(message(names).contains("101 names"));
        assertEquals(AcmeNames.MAX, AcmeNames.check(names.subList(0, AcmeNames.MAX)).size());
    }

    private static String message(List<String> names) {
        return assertThrows(IllegalArgumentException.class, () -> AcmeNames.check(names)).getMessage();
    }
}
