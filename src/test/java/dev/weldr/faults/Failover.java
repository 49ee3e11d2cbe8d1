package dev.weldr.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where one fail-over's client gap went, from the survivors' logs (one machine, so one clock; the
 * nodes log {@code HH:mm:ss.SSS} in the zone this JVM has too) and the client's probes: each
 * stage's end, in ms after the {@code kill -9} of the leader.
 * <ol>
 *   <li>{@code detect}: the first survivor's election timer found no leader for an election timeout
 *       (JRaft logs {@code start preVote});</li>
 *   <li>{@code prevote}: a survivor won its pre-vote and stood for election ({@code start vote});</li>
 *   <li>{@code elected}: it won the vote ({@code become leader});</li>
 *   <li>{@code leader}: its first entry was committed and applied, so it is ready and its pool is
 *       up to date ({@code onLeaderStart}: weldr logs {@code is leader for term});</li>
 *   <li>{@code vip}: the VIP is on its interface and the gratuitous ARP sent ({@code virtual IP ... taken});</li>
 *   <li>{@code connected}: the start of the first probe through the VIP to succeed (by its end) of those
 *       started after the kill (the client sends one every 20 ms, each on a new connection; one whose SYN went
 *       to the dead host's MAC is answered only by a retransmission a second later);</li>
 *   <li>{@code served}: that probe's end.</li>
 * </ol>
 * The nodes log JRaft's NodeImpl at INFO in the lab for this (its election lines, no per-heartbeat ones).
 */
public record Failover(long detect, long prevote, long elected, long leader, long vip, long connected, long served, long gap,
                       int preVotes, int votes, String newLeader) {

    static final List<String> STAGES = List.of("detect", "prevote", "elected", "leader", "vip", "connected", "served");

    private static final Pattern TIME = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d\\d\\d) ");

    /** The stage ends in order, keyed by name. */
    public Map<String, Long> stages() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("detect", detect);
        m.put("prevote", prevote);
        m.put("elected", elected);
        m.put("leader", leader);
        m.put("vip", vip);
        m.put("connected", connected);
        m.put("served", served);
        return m;
    }

    /** Each stage's own length (its end minus the previous stage's end), keyed by name. */
    public Map<String, Long> steps() {
        Map<String, Long> m = new LinkedHashMap<>();
        long before = 0;
        for (Map.Entry<String, Long> e : stages().entrySet()) {
            m.put(e.getKey(), e.getValue() < 0 || before < 0 ? -1 : e.getValue() - before);
            before = e.getValue();
        }
        return m;
    }

    @Override
    public String toString() {
        Map<String, Long> s = steps();
        return String.format("kill -> detected %s (+%s) -> pre-vote won %s (+%s) -> elected %s (+%s) -> leader started %s (+%s)"
                        + " -> VIP taken %s (+%s) -> first good probe sent %s (+%s) -> answered %s (+%s) ms; gap %d ms; %d pre-votes, %d votes;"
                        + " new leader %s",
                at(detect), at(s.get("detect")), at(prevote), at(s.get("prevote")), at(elected), at(s.get("elected")),
                at(leader), at(s.get("leader")), at(vip), at(s.get("vip")), at(connected), at(s.get("connected")), at(served), at(s.get("served")),
                gap, preVotes, votes, newLeader);
    }

    private static String at(long ms) {
        return ms < 0 ? "?" : Long.toString(ms);
    }

    /**
     * Reads the survivors' logs for the lines after {@code killedAt} (epoch ms), and the probes for
     * the first success after it. A stage not found is -1.
     */
    static Failover of(long killedAt, List<Path> survivorLogs, String newLeader, Path newLeaderLog, List<Agent.Probe> probes, long gap) {
        long detect = Long.MAX_VALUE;
        int preVotes = 0;
        int votes = 0;
        for (Path log : survivorLogs) {
            for (Line l : lines(log, killedAt)) {
                if (l.text.contains("[NodeImpl]") && l.text.contains(" start preVote.")) {
                    detect = Math.min(detect, l.at);
                    preVotes++;
                } else if (l.text.contains("[NodeImpl]") && l.text.contains(" start vote and grant vote self")) {
                    votes++;
                }
            }
        }
        long prevote = first(newLeaderLog, killedAt, " start vote and grant vote self");
        long elected = first(newLeaderLog, killedAt, " become leader of group");
        long leader = first(newLeaderLog, killedAt, " is leader for term ");
        long vip = first(newLeaderLog, killedAt, " taken on ");
        Agent.Probe first = probes.stream().filter(p -> p.ok() && p.start() > killedAt)
                .min(java.util.Comparator.comparingLong(Agent.Probe::end)).orElse(null);
        return new Failover(rel(detect == Long.MAX_VALUE ? -1 : detect, killedAt), rel(prevote, killedAt), rel(elected, killedAt),
                rel(leader, killedAt), rel(vip, killedAt), first == null ? -1 : rel(first.start(), killedAt),
                first == null ? -1 : rel(first.end(), killedAt), gap, preVotes, votes, newLeader);
    }

    /** True once the new leader logged that it took the VIP after {@code killedAt}. */
    static boolean vipLogged(LabNode newLeader, long killedAt) {
        return first(newLeader.log(), killedAt, " taken on ") >= 0;
    }

    /** How many lines stamped at or after {@code after} contain {@code marker}. */
    static int count(Path log, long after, String marker) {
        return (int) lines(log, after).stream().filter(l -> l.text.contains(marker)).count();
    }

    private static long rel(long at, long killedAt) {
        return at < 0 ? -1 : at - killedAt;
    }

    private static long first(Path log, long after, String marker) {
        return lines(log, after).stream().filter(l -> l.text.contains(marker)).mapToLong(l -> l.at).min().orElse(-1);
    }

    private record Line(long at, String text) {
    }

    /** The log's lines stamped at or after {@code after} (epoch ms); a stamp is read as the time nearest to it on a day. */
    private static List<Line> lines(Path log, long after) {
        List<Line> out = new ArrayList<>();
        if (!Files.exists(log)) {
            return out;
        }
        ZoneId zone = ZoneId.systemDefault();
        LocalDate day = Instant.ofEpochMilli(after).atZone(zone).toLocalDate();
        try (Stream<String> all = Files.lines(log)) {
            all.forEach(text -> {
                Matcher m = TIME.matcher(text);
                if (!m.find()) {
                    return;
                }
                LocalTime t = LocalTime.parse(m.group(1));
                long best = Long.MAX_VALUE;
                long at = -1;
                for (int d = -1; d <= 1; d++) {
                    long ms = ZonedDateTime.of(day.plusDays(d), t, zone).toInstant().toEpochMilli();
                    if (Math.abs(ms - after) < best) {
                        best = Math.abs(ms - after);
                        at = ms;
                    }
                }
                if (at >= after) {
                    out.add(new Line(at, text));
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // a log being written: the lines read so far
        }
        return out;
    }
}
