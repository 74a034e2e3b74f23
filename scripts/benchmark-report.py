"""Turns a `scripts/benchmark` run (JSON lines from kms-load, plus the run's facts) into
docs/benchmarks.md (tables, ratios, the issue's targets) and a plot of throughput and p99."""
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results_path, meta_path, markdown_path, plot_path = sys.argv[1:5]
runs = [json.loads(line) for line in open(results_path) if line.strip()]
meta = json.load(open(meta_path))


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


out.append("## Targets\n")
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
out.append("\n![throughput and p99 per scenario at concurrency 16](benchmarks.png)\n")
open(markdown_path, "w").write("\n".join(out) + "\n")

# One bar per (server, scenario) at c=16 and 1 key: throughput, and p99 on a second axis.
bars = [r for r in runs if r["concurrency"] == 16 and r["keys"] == 1 and "#" not in r["label"]]
labels = [f"{r['label']}\n{r['scenario']}" for r in bars]
fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(10, len(bars) * 0.7), 8), sharex=True)
colors = {"swiftkms": "tab:blue", "bare": "tab:gray", "moto": "tab:orange"}
top.bar(range(len(bars)), [r["rps"] for r in bars], color=[colors.get(r["label"], "tab:green") for r in bars])
top.set_ylabel("requests/s (c=16)")
top.set_yscale("log")
bottom.bar(range(len(bars)), [r["p99_ms"] for r in bars], color=[colors.get(r["label"], "tab:green") for r in bars])
bottom.set_ylabel("p99 latency, ms (c=16)")
bottom.set_yscale("log")
bottom.set_xticks(range(len(bars)))
bottom.set_xticklabels(labels, rotation=70, fontsize=7)
fig.suptitle(f"SwiftKMS {meta['commit']}: throughput and p99 at concurrency 16, 1 key")
fig.tight_layout()
fig.savefig(plot_path, dpi=110)
