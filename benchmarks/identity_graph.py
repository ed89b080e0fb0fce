"""Identity-graph components: tillit.identity.graph against scipy's connected_components.

The graph looks like identity data: identifiers grouped into people of 1-4 identifiers (e-mail,
phone, device, user id), each linked to the person's first identifier, plus 5 % random edges
that join people (shared devices, merges), so some components grow large. Prints the full
rebuild time of both (scipy's includes building the CSR matrix, which it needs), their ratio,
checks that both give the same partition, then times adding 10,000 links incrementally and
checks that the result equals a rebuild.

Run:  python benchmarks/identity_graph.py            (1,000,000 identifiers)
      python benchmarks/identity_graph.py --full     (10,000,000 identifiers)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from tillit.identity.graph import IdentityGraph, connected_components


def identity_edges(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n).astype(np.int32)
    sizes = rng.integers(1, 5, size=n // 2)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    starts = starts[starts < n]
    person = np.repeat(np.arange(starts.size), np.diff(np.append(starts, n)))
    first = order[starts[person]]
    keep = first != order
    left, right = first[keep], order[keep]
    extra = n // 20
    return (
        np.concatenate([left, rng.integers(0, n, extra, dtype=np.int32)]),
        np.concatenate([right, rng.integers(0, n, extra, dtype=np.int32)]),
    )


def best_of(rounds: int, action: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def with_scipy(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    matrix = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    return scipy_components(matrix, directed=False)[1]


def same_partition(ours: np.ndarray, theirs: np.ndarray) -> bool:
    # Our label is the smallest member; scipy numbers components in order of smallest member.
    return bool(np.array_equal(np.unique(ours, return_inverse=True)[1], theirs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10 million identifiers")
    parser.add_argument("--identifiers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    n = arguments.identifiers or (10_000_000 if arguments.full else 1_000_000)
    rng = np.random.default_rng(7)
    left, right = identity_edges(n, rng)
    print(f"{n:,} identifiers, {left.size:,} edges")

    ours_s, ours = best_of(arguments.rounds, lambda: connected_components(n, left, right))
    scipy_s, theirs = best_of(arguments.rounds, lambda: with_scipy(n, left, right))
    assert isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray)
    matrix = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    csr_s, _ = best_of(arguments.rounds, lambda: scipy_components(matrix, directed=False))
    print(f"rebuild, tillit.identity.graph   {ours_s * 1000:9.1f} ms")
    print(f"rebuild, scipy csgraph (+CSR)    {scipy_s * 1000:9.1f} ms")
    print(f"scipy csgraph, CSR prebuilt      {csr_s * 1000:9.1f} ms")
    print(f"ratio ours/scipy (+CSR)          {ours_s / scipy_s:9.2f}x  (target <= 1.5x)")
    print(f"ratio ours/scipy (CSR prebuilt)  {ours_s / csr_s:9.2f}x")
    print(f"same partition as scipy          {same_partition(ours, theirs)}")

    new = 10_000
    add_l = rng.integers(0, n, new, dtype=np.int32)
    add_r = rng.integers(0, n, new, dtype=np.int32)
    times = []
    for _ in range(arguments.rounds):
        graph = IdentityGraph.rebuild(n, left, right)
        start = time.perf_counter()
        graph.add_links(add_l, add_r)
        times.append(time.perf_counter() - start)
    print(f"add_links({new:,}) incremental     {min(times) * 1000:9.1f} ms  (target < 50 ms)")
    rebuilt = connected_components(n, np.concatenate([left, add_l]), np.concatenate([right, add_r]))
    print(f"incremental == rebuild           {bool(np.array_equal(graph.labels(), rebuilt))}")


if __name__ == "__main__":
    main()
