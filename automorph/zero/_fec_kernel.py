"""The FEC cache as flat arrays (so it compiles, checkpoints and resumes exactly).

An LRU map from 64-bit fingerprints to task fitnesses: chained hash buckets
plus a doubly linked recency list over `capacity` slots. A hit moves the entry
to the front; the entry is erased on its `forget_every`-th hit (a miss, so the
program is evaluated again); the least recently used entry is evicted when the
cache is full.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from automorph.zero._jit import jit

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
Cache = tuple[U64, F64, I64, I64, I64]
HITS, CHAIN, PREV, NEXT = 0, 1, 2, 3
HEAD, TAIL, SIZE, FREE = 0, 1, 2, 3


def new_cache(capacity: int) -> Cache:
    """An empty cache of `capacity` entries (arrays: keys, fitnesses, links, buckets, meta)."""
    n_buckets = 1 << max(4, int(2 * capacity - 1).bit_length())
    links = np.full((4, capacity), -1, dtype=np.int64)
    links[HITS] = 0
    links[CHAIN, :-1] = np.arange(1, capacity)
    meta = np.array([-1, -1, 0, 0], dtype=np.int64)
    return (
        np.zeros(capacity, dtype=np.uint64),
        np.zeros(capacity, dtype=np.float64),
        links,
        np.full(n_buckets, -1, dtype=np.int64),
        meta,
    )


@jit
def _unlink_lru(links: I64, meta: I64, j: int) -> None:
    p = links[PREV, j]
    n = links[NEXT, j]
    if p >= 0:
        links[NEXT, p] = n
    else:
        meta[HEAD] = n
    if n >= 0:
        links[PREV, n] = p
    else:
        meta[TAIL] = p


@jit
def _push_front(links: I64, meta: I64, j: int) -> None:
    links[PREV, j] = -1
    links[NEXT, j] = meta[HEAD]
    if meta[HEAD] >= 0:
        links[PREV, meta[HEAD]] = j
    meta[HEAD] = j
    if meta[TAIL] < 0:
        meta[TAIL] = j


@jit
def _remove(cache: Cache, j: int) -> None:
    keys, _, links, buckets, meta = cache
    b = int(keys[j] & np.uint64(buckets.shape[0] - 1))
    i = buckets[b]
    if i == j:
        buckets[b] = links[CHAIN, j]
    else:
        while links[CHAIN, i] != j:
            i = links[CHAIN, i]
        links[CHAIN, i] = links[CHAIN, j]
    _unlink_lru(links, meta, j)
    links[CHAIN, j] = meta[FREE]
    meta[FREE] = j
    meta[SIZE] -= 1


@jit
def cache_find(cache: Cache, key: np.uint64, forget_every: int) -> float:
    """The cached fitness of `key`, or -1.0 on a miss (fitnesses are in [0, 1])."""
    keys, fits, links, buckets, meta = cache
    j = buckets[int(key & np.uint64(buckets.shape[0] - 1))]
    while j >= 0:
        if keys[j] == key:
            links[HITS, j] += 1
            if links[HITS, j] >= forget_every:
                _remove(cache, j)
                return -1.0
            _unlink_lru(links, meta, j)
            _push_front(links, meta, j)
            return fits[j]  # type: ignore[no-any-return]
        j = links[CHAIN, j]
    return -1.0


@jit
def cache_insert(cache: Cache, key: np.uint64, fitness: float) -> None:
    """Adds `key -> fitness` (evicting the least recently used entry when full)."""
    cache_insert_at(cache, key, fitness)


@jit
def cache_insert_at(cache: Cache, key: np.uint64, fitness: float) -> int:
    """`cache_insert`, returning the entry's index (its fitness is `cache[1][index]`)."""
    keys, fits, links, buckets, meta = cache
    if meta[SIZE] == keys.shape[0]:
        _remove(cache, meta[TAIL])
    j = meta[FREE]
    meta[FREE] = links[CHAIN, j]
    keys[j] = key
    fits[j] = fitness
    links[HITS, j] = 0
    b = int(key & np.uint64(buckets.shape[0] - 1))
    links[CHAIN, j] = buckets[b]
    buckets[b] = j
    _push_front(links, meta, j)
    meta[SIZE] += 1
    return j  # type: ignore[no-any-return]
