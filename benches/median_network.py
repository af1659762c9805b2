#!/usr/bin/env python3
"""Prints the selection network of `crates/features/src/hpss/median31.rs`.

A 31-point median filter computes STEP neighbouring medians at once. Their
windows share 32 - STEP values; the network below finds ranks
15 - (STEP - 1) .. 15 of those shared values. It is Batcher's odd-even merge
sort for 32 inputs with

  * the comparators touching inputs >= 32 - STEP removed (those inputs would
    hold +inf and never move), and
  * working back from the outputs, only the comparators that can reach the
    needed ranks kept.

The script checks the result on random inputs with many ties, prints the
comparator count per median for several STEP values, and prints the pairs
for the STEP the Rust code uses.

    python3 benches/median_network.py [STEP]
"""

import random
import sys

KERNEL = 31
# Compare-exchanges of the smallest sorting networks for 0..=7 inputs (each
# window's own STEP - 1 values are sorted by one of these).
OPTIMAL_SORT = [0, 0, 1, 3, 5, 9, 12, 16]


def oddeven_merge_sort(n):
    """Batcher's odd-even merge sort for n (a power of two) inputs."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (p * 2) == (i + j + k) // (p * 2):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def prune(pairs, inputs, needed):
    """Drops comparators on inputs >= `inputs`, then those not reaching `needed`."""
    live = [(i, j) for i, j in pairs if i < inputs and j < inputs]
    reach = set(needed)
    kept = []
    for i, j in reversed(live):
        if i in reach or j in reach:
            kept.append((i, j))
            reach |= {i, j}
    return kept[::-1]


def check(pairs, inputs, needed, trials=20000):
    for _ in range(trials):
        v = [random.randint(0, 12) for _ in range(inputs)]
        w = v[:]
        for i, j in pairs:
            if w[i] > w[j]:
                w[i], w[j] = w[j], w[i]
        s = sorted(v)
        assert all(w[r] == s[r] for r in needed), (v, w)


def network(step):
    core = KERNEL + 1 - step
    needed = list(range(KERNEL // 2 - (step - 1), KERNEL // 2 + 1))
    pairs = prune(oddeven_merge_sort(32), core, needed)
    check(pairs, core, needed)
    return core, needed, pairs


def main():
    chosen = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    print("step  core  network  own-sort  merge  compare-exchanges per median")
    for step in [2, 3, 4, 5, 6, 8]:
        core, _, pairs = network(step)
        own = OPTIMAL_SORT[step - 1]
        # The merge of the core's ranks with the sorted own values costs
        # 2 * (step - 1) + 1 min/max operations, about step compare-exchanges.
        per_median = (len(pairs) + step * (own + step)) / step
        print(f"{step:4}  {core:4}  {len(pairs):7}  {own:8}  {step:5}  {per_median:.1f}")
    core, needed, pairs = network(chosen)
    print(f"\nSTEP = {chosen}: {core} inputs, ranks {needed[0]}..={needed[-1]}, {len(pairs)} pairs")
    line = ""
    for i, j in pairs:
        item = f"{i} {j},"
        if len(line) + len(item) >= 88:
            print(line)
            line = ""
        line += (" " if line else "") + item
    print(line)


if __name__ == "__main__":
    main()
