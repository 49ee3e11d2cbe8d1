package dev.weldr.proxy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The IMF-fixdate of the current second (RFC 9110 §5.6.7), formatted once per second, for one event loop. */
final class HttpDate {

    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private long second = Long.MIN_VALUE;
    private byte[] bytes;

    /** The date as the bytes of a header value. */
    byte[] bytes() {
        long now = System.currentTimeMillis() / 1000;
        if (now != second) {
            second = now;
            bytes = IMF_FIXDATE.format(Instant.ofEpochSecond(now)).getBytes(StandardCharsets.US_ASCII);
        }
        return bytes;
    }
}
