package dev.weldr.proxy.lb;

import java.nio.charset.StandardCharsets;

/**
 * XXH64 with seed 0 over the UTF-8 bytes of a string, written from the xxHash specification.
 * It is fast on short keys, passes SMHasher, and is fixed by a published spec, so every weldr
 * node (and every release) puts a key on the same server: stickiness survives a fail-over.
 *
 * <p>Keys are nearly always ASCII (addresses, header and cookie values, {@code host:port}), and
 * an ASCII string's chars are its UTF-8 bytes: that case is hashed straight from the string
 * without allocating. Anything else is encoded first.
 */
final class XxHash64 {

    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private XxHash64() {
    }

    /** XXH64(seed 0) of the UTF-8 encoding of {@code s}. */
    static long hash(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                // One char per byte, so the core below reads the UTF-8 bytes.
                return hashBytesInChars(new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
            }
        }
        return hashBytesInChars(s);
    }

    /** The core: {@code b}'s chars are bytes (all below 0x100). */
    private static long hashBytesInChars(String b) {
        int len = b.length();
        int p = 0;
        long h;
        if (len >= 32) {
            long v1 = P1 + P2;
            long v2 = P2;
            long v3 = 0;
            long v4 = -P1;
            for (int limit = len - 32; p <= limit; p += 32) {
                v1 = round(v1, long64(b, p));
                v2 = round(v2, long64(b, p + 8));
                v3 = round(v3, long64(b, p + 16));
                v4 = round(v4, long64(b, p + 24));
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = P5;
        }
        h += len;
        for (; p + 8 <= len; p += 8) {
            h ^= round(0, long64(b, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
        }
        if (p + 4 <= len) {
            h ^= int32(b, p) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        for (; p < len; p++) {
            h ^= b.charAt(p) * P5;
            h = Long.rotateLeft(h, 11) * P1;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long round(long acc, long input) {
        acc += input * P2;
        acc = Long.rotateLeft(acc, 31);
        return acc * P1;
    }

    private static long merge(long h, long v) {
        h ^= round(0, v);
        return h * P1 + P4;
    }

    /** Eight bytes from {@code p}, little-endian. */
    private static long long64(String b, int p) {
        return (long) b.charAt(p)
                | (long) b.charAt(p + 1) << 8
                | (long) b.charAt(p + 2) << 16
                | (long) b.charAt(p + 3) << 24
                | (long) b.charAt(p + 4) << 32
                | (long) b.charAt(p + 5) << 40
                | (long) b.charAt(p + 6) << 48
                | (long) b.charAt(p + 7) << 56;
    }

    /** Four bytes from {@code p}, little-endian, unsigned. */
    private static long int32(String b, int p) {
        return (long) b.charAt(p)
                | (long) b.charAt(p + 1) << 8
                | (long) b.charAt(p + 2) << 16
                | (long) b.charAt(p + 3) << 24;
    }
}
