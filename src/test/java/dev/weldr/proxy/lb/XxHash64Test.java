package dev.weldr.proxy.lb;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * XXH64 with seed 0. The first three are the reference implementation's published values; the
 * low 32 bits of every value were checked against zstd's frame checksum, which is XXH64 of the
 * content. The lengths cover each branch: under 4, 4 to 7, 8-byte lanes, and 32-byte stripes.
 */
class XxHash64Test {

    @Test
    void shouldMatchTheReferenceValues() {
        assertEquals(0xEF46DB3751D8E999L, XxHash64.hash(""));
        assertEquals(0xD24EC4F1A98C6E5BL, XxHash64.hash("a"));
        assertEquals(0x44BC2CF5AD770999L, XxHash64.hash("abc"));
        assertEquals(0xD2D02F08CF7CFD4AL, XxHash64.hash("12345678"));
        assertEquals(0xA54FB357599FF629L, XxHash64.hash("123456789012345678901234567890a"));
        assertEquals(0x748909FCC0267565L, XxHash64.hash("123456789012345678901234567890ab"));
        assertEquals(0xBEEA2AF35A6C2109L, XxHash64.hash("123456789012345678901234567890abc"));
        assertEquals(0xADA9F49FD04C102FL,
                XxHash64.hash("The quick brown fox jumps over the lazy dog and then some more text to go past 64"));
    }

    @Test
    void shouldHashTheUtf8BytesOfANonAsciiKey() {
        assertEquals(0x196B12C530801127L, XxHash64.hash("héllo wörld €"));
    }
}
