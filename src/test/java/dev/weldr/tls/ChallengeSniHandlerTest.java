package dev.weldr.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How {@link ChallengeSniHandler} reads the ALPN extension of a ClientHello: real ones, made by
 * the JDK's TLS client, then cut short, corrupted and rewritten as an attacker would.
 */
class ChallengeSniHandlerTest {

    private static final byte[] ACME = "acme-tls/1".getBytes(StandardCharsets.US_ASCII);

    /** The ClientHello's body (from legacy_version on), as the handler is given it. */
    private static byte[] body(byte[] record) {
        assertEquals(0x16, record[0], "a handshake record");
        assertEquals(1, record[5], "a ClientHello");
        int length = (record[6] & 0xff) << 16 | (record[7] & 0xff) << 8 | record[8] & 0xff;
        assertEquals(record.length - 9, length, "the whole ClientHello in one record");
        return Arrays.copyOfRange(record, 9, record.length);
    }

    private static boolean offers(byte[] body) {
        ByteBuf b = Unpooled.wrappedBuffer(body);
        return ChallengeSniHandler.offers(b, ACME);
    }

    @Test
    void shouldSeeAcmeTls1OfferedAloneOrAmongOthersAndNothingElse() throws Exception {
        assertTrue(offers(body(ClientHellos.jdk("shop.example", "acme-tls/1"))), "a CA's offer");
        assertTrue(offers(body(ClientHellos.jdk("shop.example", "h2", "acme-tls/1"))), "among others");
        assertFalse(offers(body(ClientHellos.jdk("shop.example", "h2", "http/1.1"))), "a browser's offer");
        assertFalse(offers(body(ClientHellos.jdk("shop.example"))), "no ALPN at all");
        assertFalse(offers(body(ClientHellos.jdk("shop.example", "acme-tls/10", "acme-tls/"))), "names that only start alike");
    }

    @Test
    void shouldReadNoOfferFromAClientHelloCutShortAnywhere() throws Exception {
        byte[] body = body(ClientHellos.jdk("shop.example", "acme-tls/1"));
        for (int n = 0; n < body.length; n++) {
            assertFalse(offers(Arrays.copyOf(body, n)), "cut at " + n + " of " + body.length);
        }
    }

    @Test
    void shouldReadNoOfferFromAMalformedAlpnExtension() throws Exception {
        byte[] body = body(ClientHellos.jdk("shop.example", "acme-tls/1"));
        int data = ClientHellos.alpnData(body);
        // list length, then 10 "acme-tls/1"
        assertEquals(11, (body[data] & 0xff) << 8 | body[data + 1] & 0xff);

        byte[] listTooLong = body.clone();
        listTooLong[data + 1] = 12;
        assertFalse(offers(listTooLong), "a list longer than its extension");
        byte[] listTooShort = body.clone();
        listTooShort[data + 1] = 10;
        assertFalse(offers(listTooShort), "a list shorter than its extension");
        byte[] nameTooLong = body.clone();
        nameTooLong[data + 2] = (byte) 200;
        assertFalse(offers(nameTooLong), "a name past the list's end");
        byte[] emptyName = body.clone();
        emptyName[data + 2] = 0;
        assertFalse(offers(emptyName), "a name of no bytes");
        byte[] extensionTooLong = body.clone();
        extensionTooLong[data - 1] = (byte) 0xff;
        assertFalse(offers(extensionTooLong), "an extension past the extensions' end");
    }

    @Test
    void shouldNeverReadOutsideTheClientHelloWhateverItsBytes() throws Exception {
        byte[] body = body(ClientHellos.jdk("shop.example", "h2", "acme-tls/1"));
        Random random = new Random(17);
        for (int round = 0; round < 20_000; round++) {
            byte[] mutated = Arrays.copyOf(body, random.nextInt(body.length + 1));
            for (int k = random.nextInt(4); k >= 0 && mutated.length > 0; k--) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            // The hello between the reader and writer indexes of a larger buffer, as Netty's aggregated
            // ClientHello can be: reading past its end would not fail, it would find "acme-tls/1".
            ByteBuf larger = Unpooled.buffer(mutated.length + 64);
            larger.writeBytes(new byte[16]).writeBytes(mutated).writeByte(ACME.length).writeBytes(ACME).writeBytes(new byte[32]);
            larger.readerIndex(16).writerIndex(16 + mutated.length);
            boolean offered = ChallengeSniHandler.offers(larger, ACME);
            if (offered) {
                assertTrue(new String(mutated, StandardCharsets.ISO_8859_1).contains("acme-tls/1"), "offered only if named");
            }
        }
    }
}
