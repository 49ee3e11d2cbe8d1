"""Prints the benchmark table from the raw rows run.sh collected (one TSV row per wrk run)."""
import statistics
import sys
from collections import defaultdict

rows = defaultdict(list)
order_targets, order_cases = [], []
with open(sys.argv[1]) as f:
    for line in f:
        target, case, rps, p50, p99, errors, requests, cpu_s, ran_ms, waited_ms = line.rstrip("\n").split("\t")
        if target not in order_targets:
            order_targets.append(target)
        if case not in order_cases:
            order_cases.append(case)
        rows[(target, case)].append((float(rps), float(p50), float(p99), int(errors), int(requests), float(cpu_s),
                                     int(ran_ms) / max(int(waited_ms) + int(ran_ms), 1)))

def med(values):
    return statistics.median(values) if values else float("nan")

def lat(values, case):
    # wrk times a pipelined batch, not a request, and its pipelined percentiles are unreliable;
    # h2load (h2-* cases) reports no percentiles.
    return "-" if case == "pipeline" or case.startswith("h2-") else "%.2f" % med(values)

cw = max([10] + [len(c) for c in order_cases])
tw = max([10] + [len(t) for t in order_targets])
print()
if any(c.startswith("tls-handshake") for c in order_cases):
    print("tls-handshake: one request per new connection, each a full handshake: requests/s are handshakes/s,")
    print("CPU us/req is CPU per handshake (and its request).")
# on core: of the time the proxy's threads were runnable, the share they ran (the rest they waited for a core).
print("%-*s %-*s %12s %10s %10s %8s %12s %9s %9s %8s" % (
    cw, "case", tw, "target", "requests/s", "p50 ms", "p99 ms", "errors", "CPU us/req", "vs nginx", "vs haproxy", "on core"))
for case in order_cases:
    cpu = {}
    for target in order_targets:
        r = rows.get((target, case))
        if r:
            cpu[target] = med([c / max(n, 1) * 1e6 for (_, _, _, _, n, c, _) in r])
    for target in order_targets:
        r = rows.get((target, case))
        if not r:
            continue
        ratio = lambda peer: ("%.2f" % (cpu[target] / cpu[peer])) if peer in cpu and cpu[peer] > 0 else "-"
        print("%-*s %-*s %12.0f %10s %10s %8d %12.1f %9s %9s %7.0f%%" % (
            cw, case, tw, target, med([x[0] for x in r]), lat([x[1] for x in r], case), lat([x[2] for x in r], case),
            sum(x[3] for x in r), cpu[target], ratio("nginx"), ratio("haproxy"), 100 * med([x[6] for x in r])))
    print()
