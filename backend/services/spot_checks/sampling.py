"""How a spot-check sample is drawn: pure functions, so anyone can draw it again from the
stored seed and population, with this module or by hand in another language.

The population is a mapping town code → household ids. The draw, given a size `n` and the
seed (16 hex digits), is:

1. Towns: those with at least one household, in ascending code order. `P` is the households
   in all, and `n` is cut to `P`.
2. Allocation (stratified by town, largest remainder): if `n` is at least the number of
   towns `T`, each town first gets one household and the other `n - T` are shared in
   proportion to each town's households less that one (`size - 1`, so no town is given more
   than it has); otherwise the `n` are shared in proportion to the towns' sizes. A town's
   share is its exact quota's whole part; the seats left over go one each to the largest
   fractional parts, equal parts to the lower town code.
3. Drawing: `rng = random.Random(int(seed, 16))`. For each town in code order, its household
   ids sorted ascending as the list `ids`, and its share `k`: for `i` in `0 … k-1`,
   `j = i + int(rng.random() * (len(ids) - i))`, swap `ids[i]` and `ids[j]` (a partial
   Fisher–Yates shuffle). The town's sample is `ids[:k]`; the sample is the towns' samples
   one after another. Only `random()` is used: Python promises that it gives the same
   sequence for the same integer seed in every version, which it does not for `sample()`.
4. The population's fingerprint is the SHA-256 of the lines `"<town code> <household id>"`,
   in town then id order, joined by `\\n` (UTF-8), in lower-case hex: a later reproduction
   can tell whether it is drawing from the same population.
"""

import hashlib
import random
from fractions import Fraction


def fingerprint(population: dict[str, list[int]]) -> str:
    """SHA-256 of the population's canonical lines (step 4)."""
    lines = (f"{town} {hid}" for town in sorted(population) for hid in sorted(population[town]))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Share `n` households among the towns by their sizes (step 2); every town is a key."""
    towns = sorted(t for t, size in sizes.items() if size > 0)
    n = min(n, sum(sizes[t] for t in towns))
    floor_each = 1 if n >= len(towns) else 0
    weights = {t: sizes[t] - floor_each for t in towns}
    rest, total = n - floor_each * len(towns), sum(weights.values())
    quotas = {t: Fraction(rest * weights[t], total) if total else Fraction(0) for t in towns}
    shares = {t: floor_each + int(quotas[t]) for t in towns}
    left = rest - sum(int(q) for q in quotas.values())
    for town in sorted(towns, key=lambda t: (-(quotas[t] - int(quotas[t])), t))[:left]:
        shares[town] += 1
    return {t: shares.get(t, 0) for t in sorted(sizes)}


def draw(population: dict[str, list[int]], n: int, seed: str) -> tuple[dict[str, int], list]:
    """The allocation and the sample of `n` households drawn with `seed` (steps 1–3)."""
    shares = allocate({t: len(ids) for t, ids in population.items()}, n)
    rng = random.Random(int(seed, 16))
    sample = []
    for town in sorted(population):
        ids, k = sorted(population[town]), shares[town]
        for i in range(k):
            j = i + int(rng.random() * (len(ids) - i))
            ids[i], ids[j] = ids[j], ids[i]
        sample.extend(ids[:k])
    return shares, sample


def size_for(population_size: int, *, count: int | None = None, percent=None) -> int:
    """Households to draw: the count asked for, or the percentage rounded up, at most all."""
    if count is not None:
        return min(count, population_size)
    wanted = Fraction(str(percent)) * population_size / 100
    return min(-(-wanted.numerator // wanted.denominator), population_size)
