#!/usr/bin/env python3
"""The scaling model of docs/DISTRIBUTED.md: predicted speed-up of a fit on K machines from the
compute time one machine needs per step and the cost of the step's exchange, α + β·bytes per
message (α: latency, β: seconds per byte).

    python3 scripts/measure/scaling_model.py --alpha-us 30 --gbit 10

Per step on K machines (each with the same cores; compute splits evenly, as the ranks' shares do):
  compute T/K, then the exchange of the step's m bytes of sums. As implemented (both optimizers):
  the ordered sum, K−1 messages in sequence plus a broadcast (binomial tree: ⌈log2 K⌉ messages)
      →  (K−1+⌈log2 K⌉)(α + β·m)           (bit-identical sums on every rank, in rank order)
  With MPI_Allreduce instead (its bits then depend on K): the better of a ring, for large m, and
  recursive doubling, for small m
      →  min(2(K−1)·α + 2·(K−1)/K·β·m,  ⌈log2 K⌉(α + β·m))
speed-up(K) = T / (T/K + exchange(K)). Communication dominates from the K where exchange(K) > T/K.
"""
import argparse
import math

# The exchanged bytes per step (the compute per step comes from --step-seconds: measured by
# `scripts/bench --mpi` and the training logs; docs/DISTRIBUTED.md gives the runs). L-BFGS sends
# [gradient | loss | Σw | per-category loss and weight] in doubles (4 categories here).
MODELS = [
    ("linear dense D=256, 100k pairs, L-BFGS evaluation", 8 * (256 + 2 + 2 * 4 + 1)),
    ("linear hashed text 2^18, 100k pairs, L-BFGS evaluation", 8 * ((1 << 18) + 2 + 2 * 4 + 1)),
    ("MLP 1024→256→1, AdamW batch of 256", 8 * (1024 * 256 + 256 + 256 + 1)),
]


def exchange(algorithm, ranks, bytes_, alpha, beta):
    if ranks == 1:
        return 0.0
    if algorithm == "chain":
        return (ranks - 1 + math.ceil(math.log2(ranks))) * (alpha + beta * bytes_)
    steps = math.ceil(math.log2(ranks))
    return min(2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * beta * bytes_, steps * (alpha + beta * bytes_))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpha-us", type=float, default=30.0, help="per-message latency between machines, µs")
    parser.add_argument("--gbit", type=float, default=10.0, help="link bandwidth, Gbit/s")
    parser.add_argument("--step-seconds", type=float, nargs=3, required=True, metavar=("LINEAR", "TEXT", "MLP"),
                        help="compute seconds per step on one machine for the three models, in the order above")
    args = parser.parse_args()
    alpha, beta = args.alpha_us * 1e-6, 8 / (args.gbit * 1e9)
    ranks = [1, 2, 4, 8, 16, 32, 64]
    print(f"α = {args.alpha_us:g} µs, {args.gbit:g} Gbit/s (β = {beta * 1e9:.2f} ns/byte)")
    print("| model | exchange | bytes per step | compute per step, 1 machine | " + " | ".join(f"K={k}" for k in ranks)
          + " | communication dominates from |")
    print("|---|---|---:|---:|" + "---:|" * len(ranks) + "---:|")
    for (name, bytes_), seconds in zip(MODELS, args.step_seconds):
        for algorithm, label in [("chain", "ordered sum (as built)"), ("allreduce", "MPI_Allreduce")]:
            cost = lambda k: exchange(algorithm, k, bytes_, alpha, beta)
            speedups = [seconds / (seconds / k + cost(k)) for k in ranks]
            dominant = next((k for k in range(2, 4097) if cost(k) > seconds / k), None)
            print(f"| {name} | {label} | {bytes_ / 1e3:,.1f} KB | {seconds * 1e3:.1f} ms | " + " | ".join(f"{s:.1f}×" for s in speedups)
                  + f" | K = {dominant if dominant else '> 4096'} |")

if __name__ == "__main__":
    main()
