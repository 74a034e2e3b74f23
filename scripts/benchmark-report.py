"""Turns a `scripts/benchmark` run (JSON lines from kms-load, the run's facts, and JSON lines from
scripts/benchmark-wrk) into docs/benchmarks.md (tables, ratios, the issues' targets) and a plot of
throughput, p99 and the long wrk runs' requests per second."""
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results_path, meta_path, markdown_path, plot_path, wrk_path = sys.argv[1:6]
runs = [json.loads(line) for line in open(results_path) if line.strip()]
meta = json.load(open(meta_path))
wrk_lines = [json.loads(line) for line in open(wrk_path) if line.strip()] if os.path.exists(wrk_path) else []
# Issue 26's baseline (Benchmarks/CHANGES.md, 1aabcc5 under wrk): server CPU per Encrypt 100 B.
ENCRYPT_CPU_BASELINE_US = 454


def find(label, scenario, concurrency, keys=1):
    for r in runs:
        if (r["label"], r["scenario"], r["concurrency"], r["keys"]) == (label, scenario, concurrency, keys):
            return r
    return None


def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


out = []
out.append("# Benchmarks\n")
out.append(f"Written by `scripts/benchmark` at commit `{meta['commit']}` on {meta['cpus']} cores ({meta['cpu']}), "
           f"{meta['memory_gib']} GiB, Linux {meta['kernel']}. The load generator (`Benchmarks/`, Swift, SigV4-signed "
           f"requests on kept-alive connections, every latency in an HDR histogram) and the servers share the machine's "
           f"cores. Each run: 1 s of warm-up, then {meta['duration']:g} s measured. SwiftKMS runs as shipped: release build, "
           f"SigV4 verified, default key policy evaluated, every request audited, one log line per request.\n")

rounds = range(1, meta.get("rounds", 0) + 1)


def wrk_find(label, scenario, long=False, phase=None):
    for r in wrk_lines:
        if r["label"] == label and r["scenario"] == scenario and r.get("phase") == phase and (phase or (r["seconds"] >= 30) == long):
            return r
    return None


def yes(ok):
    return "yes" if ok else "no"


def per_second_floor(r):
    """The slowest full second of a run against its median second. Seconds before the first
    request (the sampler starts before wrk has loaded a large script) are not the run's."""
    series = r["per_second"]
    first = next((i for i, n in enumerate(series) if n), len(series))
    inner = sorted(series[first + 1:-1]) or [0]
    return inner[0] / max(1, inner[len(inner) // 2])


def wrk_section():
    """Issue 26's goals, measured with wrk replaying pre-signed requests (scripts/benchmark-wrk)."""
    bare, encrypt = wrk_find("bare", "bare"), wrk_find("swiftkms", "encrypt-100")
    if not (bare and encrypt):
        return []
    text = ["## Issue 26's goals, under wrk\n",
            "wrk (2 threads, 16 connections) replays requests signed beforehand by `kms-load presign`, so the client costs "
            "almost nothing; server, bare endpoint, moto and wrk share the 2 cores. Runs of 8 s unless said; the long runs "
            "last " + (f"{wrk_find('swiftkms', 'encrypt-100', long=True)['seconds']:.0f} s" if wrk_find('swiftkms', 'encrypt-100', long=True) else "—") +
            ". Server CPU is the process's utime + stime over the run divided by the requests it answered.\n",
            "| goal | measured | met |", "| --- | --- | --- |"]
    ratio = encrypt["rps"] / bare["rps"]
    text.append(f"| Encrypt 100 B ≥ 0.3 × the bare endpoint | {ratio:.2f} × ({encrypt['rps']:,} against {bare['rps']:,} req/s) | {yes(ratio >= 0.3)} |")
    cpu = encrypt["server_cpu_us_per_request"]
    text.append(f"| server CPU per Encrypt at least halved (from {ENCRYPT_CPU_BASELINE_US} µs) | {cpu:.0f} µs "
                f"({cpu / ENCRYPT_CPU_BASELINE_US:.2f} ×; the bare endpoint {bare['server_cpu_us_per_request']:.0f} µs) | "
                f"{yes(cpu <= ENCRYPT_CPU_BASELINE_US / 2)} |")
    against_moto = [(s, wrk_find("swiftkms", s), wrk_find("moto", s)) for s in ["encrypt-100", "decrypt", "generate-data-key", "sign-p256",
                                                                              "describe-key", "create-key"]]
    against_moto = [(s, a["rps"] / m["rps"]) for s, a, m in against_moto if a and m and m["requests"] and not m["errors"]]
    if against_moto:
        worst = min(against_moto, key=lambda x: x[1])
        text.append(f"| ≥ 20 × moto on every operation both implement | lowest {worst[1]:.0f} × ({worst[0]}); "
                    + ", ".join(f"{s} {x:.0f} ×" for s, x in against_moto) + f" | {yes(worst[1] >= 20)} |")
    longs = [wrk_find("swiftkms", s, long=True) for s in ["encrypt-100", "decrypt", "generate-data-key"]]
    longs = [r for r in longs if r]
    if longs:
        text.append("| p99 ≤ 5 ms at c=16 (Encrypt, Decrypt, GenerateDataKey; long runs), p99.9 reported | "
                    + "; ".join(f"{r['scenario']} p99 {r['p99_us'] / 1000:.2f} ms, p99.9 {r['p999_us'] / 1000:.2f} ms" for r in longs)
                    + f" | {yes(all(r['p99_us'] <= 5000 for r in longs))} |")
        text.append("| no stall: each long run's slowest second ≥ ½ its median second | "
                    + "; ".join(f"{r['scenario']} {per_second_floor(r):.2f}" for r in longs)
                    + f" | {yes(all(per_second_floor(r) >= 0.5 for r in longs))} |")
    create = wrk_find("swiftkms", "create-key")
    if create:
        text.append(f"| CreateKey ≥ 4,000/s durable | {create['rps']:,}/s (server CPU {create['server_cpu_us_per_request']:.0f} µs each) | "
                    f"{yes(create['rps'] >= 4000)} |")
    long_encrypt, store = wrk_find("swiftkms", "encrypt-100", long=True), None
    for r in wrk_lines:
        if r.get("phase") == "store" and store is None:
            store = r
    if long_encrypt:
        text.append(f"| ≤ 300 bytes on disk per event of an Encrypt | {long_encrypt['store_bytes_per_request']} B of store growth per request over "
                    f"{long_encrypt['requests']:,} Encrypts" + (f"; the first wrk session's store: {store['bytes'] / max(1, store['audit_events']):.0f} B "
                                                               f"per audit event, everything included ({store['audit_events']:,} events)" if store else "")
                    + f" | {yes(long_encrypt['store_bytes_per_request'] <= 300)} |")
    reads, writes = wrk_find("swiftkms", "encrypt-decrypt"), wrk_find("swiftkms", "encrypt-decrypt-writes")
    if reads and writes:
        text.append(f"| 95 % Encrypt/Decrypt + 5 % CreateGrant/TagResource/UntagResource ≥ 0.8 × the reads alone | "
                    f"{writes['rps'] / reads['rps']:.2f} × ({writes['rps']:,} against {reads['rps']:,} req/s) | {yes(writes['rps'] / reads['rps'] >= 0.8)} |")
    created = [r for r in wrk_lines if r.get("phase") == "scale-create"]
    one = [r for r in wrk_lines if r.get("phase") == "scale-1-key"]
    spread = [r for r in wrk_lines if r.get("phase") == "scale-spread"]
    listing = next((r for r in wrk_lines if r.get("phase") == "scale-list-keys"), None)
    startup = next((r for r in wrk_lines if r.get("phase") == "scale-start-up"), None)
    if one and spread:
        n = spread[-1]["keys_stored"]
        ratios = [s["rps"] / o["rps"] for o, s in zip(one, spread)]
        text.append(f"| {n:,} keys: Encrypt spread over them within 10 % of 1 key | {median(ratios):.2f} × ({listed(ratios)}; each run "
                    f"{spread[0]['distinct_keys']:,} keys never used before) | {yes(median(ratios) >= 0.9)} |")
        peak = max(r["rss_mb"] for r in created + one + spread)
        creating = f"while creating {max(r['rss_mb'] for r in created):.0f} MB, " if created else ""
        text.append(f"| {n:,} keys: RSS ≤ 300 MB | peak {peak:.0f} MB ({creating}after the Encrypt runs "
                    f"{spread[-1]['rss_mb']:.0f} MB" + (f", after start-up {startup['rss_mb']:.0f} MB" if startup else "") + f") | {yes(peak <= 300)} |")
    if listing:
        text.append(f"| ListKeys at constant cost per page | {listing['pages']:,} pages of 1,000: first ten {listing['first_10_median_ms']} ms, "
                    f"last ten {listing['last_10_median_ms']} ms (medians, boto3) | {yes(listing['last_10_median_ms'] <= 1.5 * listing['first_10_median_ms'])} |")
    if startup:
        text.append(f"| start-up < 1 s with {startup['keys_stored']:,} keys | {startup['seconds']:.2f} s to the first answered DescribeKey | "
                    f"{yes(startup['seconds'] < 1)} |")
    text.append("\n| run | req/s | × bare | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU µs/req | store B/req | slowest ÷ median second |")
    text.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in wrk_lines:
        if "p50_us" not in r:
            continue
        name = f"{r['label']} {r['scenario']}" + (f" ({r['seconds']:.0f} s)" if r["seconds"] >= 30 else "") + (
            f" [{r['phase']}, {r['keys_stored']:,} keys]" if r.get("phase") else "")
        floor = f"{per_second_floor(r):.2f}" if r.get("per_second") else "—"
        text.append(f"| {name} | {r['rps']:,} | {r['rps'] / bare['rps']:.2f} | {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | "
                    f"{r['p999_us'] / 1000:.2f} | {r['max_us'] / 1000:.1f} | {r['errors']} | {r['server_cpu_us_per_request']:.0f} | "
                    f"{r.get('store_bytes_per_request', '—')} | {floor} |")
    for r in longs:
        text.append(f"\nRequests of each second, {r['scenario']} ({r['seconds']:.0f} s): " + ", ".join(str(x) for x in r["per_second"]) + ".")
    text.append("")
    return text




def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def over_rounds(ratio):
    """Each round's ratio (rounds whose runs are all present), and their median."""
    each = [x for x in (ratio(i) for i in rounds) if x is not None]
    return each, (median(each) if each else None)


def listed(values, digits=2):
    return ", ".join(f"{v:.{digits}f}" for v in values)


out.extend(wrk_section())
out.append("## Issue 7's targets, under kms-load\n")
out.append(f"The ratios are medians over {len(rounds)} rounds in which the two sides ran alternately "
           f"(runs labelled `swiftkms#N` and `bare#N` below), each round's ratio in brackets.\n")
out.append("| target | measured | met |")
out.append("| --- | --- | --- |")


def bare_ratio(i):
    enc, bare = find(f"swiftkms#{i}", "encrypt-100", 16), find(f"bare#{i}", "bare", 16)
    return enc["rps"] / bare["rps"] if enc and bare else None


each, ratio = over_rounds(bare_ratio)
if ratio is not None:
    out.append(f"| Encrypt 100 B at c=16 ≥ 0.6 × the bare endpoint | {ratio:.2f} × ({listed(each)}) | {'yes' if ratio >= 0.6 else 'no'} |")
    p99s = [find(f"swiftkms#{i}", "encrypt-100", 16)["p99_ms"] for i in rounds if find(f"swiftkms#{i}", "encrypt-100", 16)]
    out.append(f"| Encrypt 100 B at c=16, p99 < 5 ms | {median(p99s):.2f} ms ({listed(p99s)}) | {'yes' if median(p99s) < 5 else 'no'} |")
moto_ratios = []
for scenario in ["encrypt-100", "decrypt", "generate-data-key", "describe-key", "generate-mac", "sign-p256", "sign-rsa2048", "create-key"]:
    m, s = find("moto", scenario, 16), find("swiftkms", scenario, 16)
    if m and s and m["requests"] and not m["errors"]:
        moto_ratios.append((scenario, s["rps"] / m["rps"]))
if moto_ratios:
    worst = min(moto_ratios, key=lambda x: x[1])
    out.append(f"| ≥ 20 × moto on every operation both implement (c=16) | lowest {worst[1]:.0f} × ({worst[0]}) | {'yes' if worst[1] >= 20 else 'no'} |")
create16 = find("swiftkms", "create-key", 16)
if create16:
    out.append(f"| CreateKey ≥ 2,000/s at c=16 (synchronous=FULL) | {fmt(create16['rps'])} /s | {'yes' if create16['rps'] >= 2000 else 'no'} |")
worst_keys = None
for scenario in ["encrypt-100", "decrypt", "generate-data-key", "describe-key", "mixed"]:
    def keys_ratio(i):
        one, many = find(f"swiftkms#{i}", scenario, 16, 1), find(f"swiftkms#{i}", scenario, 16, meta["max_keys"])
        return many["rps"] / one["rps"] if one and many else None
    each, ratio = over_rounds(keys_ratio)
    if ratio is not None and (worst_keys is None or ratio < worst_keys[1]):
        worst_keys = (scenario, ratio, each)
if worst_keys:
    out.append(f"| {fmt(meta['max_keys'])} keys within 10 % of 1 key (c=16) | lowest {worst_keys[1]:.2f} × ({worst_keys[0]}: "
               f"{listed(worst_keys[2])}) | {'yes' if worst_keys[1] >= 0.9 else 'no'} |")
rss_mb = meta["rss_kb"] / 1024
out.append(f"| RSS < 150 MB with {fmt(meta['max_keys'])} keys after the mixed workload | {rss_mb:.0f} MB | {'yes' if rss_mb < 150 else 'no'} |")
out.append(f"| start-up to the first answered request < 1 s ({meta['stored_keys']} keys stored) | {meta['startup_s']:.2f} s | {'yes' if meta['startup_s'] < 1 else 'no'} |")
out.append(f"\nSetting up {fmt(meta['max_keys'])} keys with one Encrypt each took {meta['setup_s']:.0f} s (16 concurrent).\n")

if moto_ratios:
    out.append("## SwiftKMS and moto (c=16, 1 key)\n")
    out.append("| operation | SwiftKMS req/s | moto req/s | ratio |")
    out.append("| --- | ---: | ---: | ---: |")
    for scenario, ratio in moto_ratios:
        out.append(f"| {scenario} | {fmt(find('swiftkms', scenario, 16)['rps'])} | {fmt(find('moto', scenario, 16)['rps'])} | {ratio:.0f} × |")
    skipped = [r for r in runs if r["label"] == "moto" and (r["errors"] or not r["requests"])]
    for r in skipped:
        out.append(f"\nmoto answered {r['scenario']} with errors ({r.get('first_error', '')[:120]}); not compared.")
    out.append("")

changes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks", "CHANGES.md")
if os.path.exists(changes):
    out.append(open(changes).read())

out.append("## Every run\n")
out.append("| server | scenario | concurrency | keys | req/s | p50 ms | p99 ms | p99.9 ms | errors |")
out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in runs:
    out.append(f"| {r['label']} | {r['scenario']} | {r['concurrency']} | {fmt(r['keys'])} | {fmt(r['rps'])} | {r['p50_ms']:.2f} | "
               f"{r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['errors']} |")
out.append("\n![throughput and p99 per scenario at concurrency 16, and each second of the long runs](benchmarks.png)\n")
open(markdown_path, "w").write("\n".join(out) + "\n")

# The wrk runs of 8 s (kms-load's at c=16 and 1 key when there are none): one bar per (server,
# scenario) for throughput and for p99; below, the long runs' requests of each second.
wrk_bars = [r for r in wrk_lines if "p50_us" in r and not r.get("phase") and r["seconds"] < 30]
wrk_bars = [r for i, r in enumerate(wrk_bars) if (r["label"], r["scenario"]) not in {(b["label"], b["scenario"]) for b in wrk_bars[:i]}]
if wrk_bars:
    bars = [{"label": r["label"], "scenario": r["scenario"], "rps": r["rps"], "p99_ms": r["p99_us"] / 1000} for r in wrk_bars]
else:
    bars = [r for r in runs if r["concurrency"] == 16 and r["keys"] == 1 and "#" not in r["label"]]
longs = [r for r in wrk_lines if r["label"] == "swiftkms" and "p50_us" in r and not r.get("phase") and r["seconds"] >= 30]
labels = [f"{r['label']}\n{r['scenario']}" for r in bars]
fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(max(10, len(bars) * 0.7), 11), gridspec_kw={"height_ratios": [3, 3, 2]})
colors = {"swiftkms": "tab:blue", "bare": "tab:gray", "moto": "tab:orange"}
top.bar(range(len(bars)), [r["rps"] for r in bars], color=[colors.get(r["label"], "tab:green") for r in bars])
top.set_ylabel("requests/s (c=16)")
top.set_yscale("log")
top.set_xticks([])
middle.bar(range(len(bars)), [r["p99_ms"] for r in bars], color=[colors.get(r["label"], "tab:green") for r in bars])
middle.set_ylabel("p99 latency, ms (c=16)")
middle.set_yscale("log")
middle.set_xticks(range(len(bars)))
middle.set_xticklabels(labels, rotation=70, fontsize=7)
for r in longs:
    bottom.plot(range(1, len(r["per_second"]) + 1), r["per_second"], label=r["scenario"])
bottom.set_xlabel("second of the long run")
bottom.set_ylabel("requests in the second")
bottom.set_ylim(bottom=0)
if longs:
    bottom.legend(fontsize=7)
client = "wrk" if wrk_bars else "kms-load"
fig.suptitle(f"SwiftKMS {meta['commit']}: throughput and p99 at concurrency 16, 1 key ({client}); requests per second of the long runs")
fig.tight_layout()
fig.savefig(plot_path, dpi=110)
