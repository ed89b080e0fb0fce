from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from tillit.identity.graph import IdentityGraph, connected_components


def scipy_partition(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    matrix = coo_matrix((np.ones(left.size), (left, right)), shape=(n, n))
    return scipy_components(matrix, directed=False)[1]


def partition(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1]


@pytest.mark.parametrize("seed", range(8))
def test_rebuild_finds_the_same_components_as_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    m = int(rng.integers(0, 2 * n))
    left, right = rng.integers(0, n, m), rng.integers(0, n, m)
    labels = connected_components(n, left, right)
    assert np.array_equal(partition(labels), scipy_partition(n, left, right))
    # The label is the smallest member, so it is the same whatever the edge order.
    assert np.array_equal(labels[labels], labels)
    assert all(labels[i] <= i for i in range(n))


@pytest.mark.parametrize("seed", range(5))
def test_incremental_links_equal_a_rebuild(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 2000
    left, right = rng.integers(0, n, 1200), rng.integers(0, n, 1200)
    graph = IdentityGraph.rebuild(n, left[:600], right[:600])
    for start in range(600, 1200, 50):
        graph.add_links(left[start : start + 50], right[start : start + 50])
    assert np.array_equal(graph.labels(), connected_components(n, left, right))


def test_add_links_counts_joins_and_grow_adds_singletons() -> None:
    graph = IdentityGraph(4)
    assert graph.add_links(np.array([0, 2]), np.array([1, 3])) == 2
    assert graph.add_links(np.array([1]), np.array([0])) == 0
    graph.grow(6)
    assert graph.add_links(np.array([5]), np.array([3])) == 1
    assert graph.labels().tolist() == [0, 0, 2, 2, 4, 2]
    assert graph.component_count() == 3
