package dev.weldr.tls;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeySealTest {

    private static final String PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

    @Test
    void shouldStorePemAsItIsWithoutAStoreKey() throws Exception {
        KeySeal plain = new KeySeal(null);
        assertSame(PEM, plain.seal("shop", PEM));
        assertSame(PEM, plain.open("shop", PEM));
    }

    @Test
    void shouldSealWithAFreshNonceAndOpenOnAnotherNodeWithTheSameSecret() throws Exception {
        KeySeal leader = new KeySeal("correct horse battery staple");
        String once = leader.seal("shop", PEM);
        String twice = leader.seal("shop", PEM);
        assertTrue(once.startsWith("sealed:v1:"));
        assertFalse(once.contains("PRIVATE KEY"));
        assertFalse(once.contains("MIGHAgEAMBMGByqGSM49"));
        assertNotEquals(once, twice, "a nonce is never reused");
        KeySeal follower = new KeySeal("correct horse battery staple");
        assertEquals(PEM, follower.open("shop", once));
        assertEquals(PEM, follower.open("shop", twice));
    }

    @Test
    void shouldRefuseAnotherSecretAnotherCertificateAndNoSecret() {
        String sealed = new KeySeal("correct horse battery staple").seal("shop", PEM);
        assertTrue(assertThrows(InvalidCertificateException.class, () -> new KeySeal("another secret, 16+ chars").open("shop", sealed))
                .getMessage().contains("another weldr.tls.store-key"));
        assertThrows(InvalidCertificateException.class, () -> new KeySeal("correct horse battery staple").open("blog", sealed));
        assertTrue(assertThrows(InvalidCertificateException.class, () -> new KeySeal(null).open("shop", sealed))
                .getMessage().contains("weldr.tls.store-key is not set"));
    }
}
