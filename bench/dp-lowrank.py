#!/usr/bin/env python3
"""Can a low-rank denoising of the noised successor table beat its cell threshold? (issue 16, ML-1M at ε = 8)

The DP count start (docs/architecture.md, "The count-based start under DP") releases each training
user's distinct target actions and successor pairs, 1 per cell, scaled to L2 norm C = 6, with
Gaussian noise of σ·C on every one of the V x V pair cells, and keeps the cells at or above 3
noise standard deviations. Any function of the noised table is free post-processing, so a
truncated SVD of it (rank r, then each row's top 16 successors) would cost no privacy; it wins if
the table's structure stands above the noise's singular values (about σ·C·2√V).

A rough re-implementation in numpy of that release on ML-1M (each user's last 50 training events,
the last two events held back; users whose id is 0 mod 10 held out), scored as a Markov chain on
the held-out users' validation targets (the second-to-last event after the third-to-last, seen
items excluded, NDCG@10 over all items, noised popularity as a 1e-6 tie-break). It prints the
exact Markov chain, the noised popularity, the 3σ threshold release and the rank-r reconstructions
at the σ that spends ε_counts (RDP of the Gaussian mechanism, δ = 1/users), and the noiseless
table's top singular values beside the noise's.

usage: /usr/bin/python3 bench/dp-lowrank.py [eps_counts ...]   (numpy: apt-get install -y python3-numpy;
       a minute or two per ε; figures quoted in bench/results/privacy/NOTES.md, "Session 16")
"""
import collections
import math
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, '..', '..', 'shared', 'data', 'ml-1m', 'ml-1m.txt')
CLIP, KEEP, THRESHOLD = 6.0, 16, 3.0


def sigma_for(eps, delta):
    """The Gaussian mechanism's noise multiplier spending eps at delta (one release, RDP with
    Balle et al. 2020's conversion, as native/train/privacy.cpp), by bisection."""
    def eps_of(sigma):
        best = math.inf
        for a10 in range(11, 2560):
            a = a10 / 10
            rdp = a / (2 * sigma * sigma)
            e = rdp + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
            best = min(best, e)
        return best
    lo, hi = 0.05, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if eps_of(mid) > eps else (lo, mid)
    return hi


seqs = collections.OrderedDict()
for line in open(path):
    u, i = line.split()
    seqs.setdefault(u, []).append(i)
items = {}
for s in seqs.values():
    for i in s:
        items.setdefault(i, len(items) + 1)
V = len(items) + 1
held = [u for u in seqs if int(u) % 10 == 0]
train = [u for u in seqs if int(u) % 10 != 0]

S = np.zeros((V, V))     # clipped user counts of distinct pairs
A = np.zeros(V)          # clipped user counts of distinct target actions
M = np.zeros((V, V))     # plain successor counts (the Markov baseline)
for u in train:
    s = [items[i] for i in seqs[u]][:-2][-50:]
    acts, pairs = set(s[1:]), set(zip(s[:-1], s[1:]))
    n = len(acts) + len(pairs)
    if n == 0:
        continue
    w = min(1.0, CLIP / math.sqrt(n))
    for a in acts:
        A[a] += w
    for a, b in pairs:
        S[a, b] += w
    for a, b in zip(s[:-1], s[1:]):
        M[a, b] += 1


def ndcg(score_row):
    total, count = 0.0, 0
    for u in held:
        s = [items[i] for i in seqs[u]]
        if len(s) < 3:
            continue
        sc = np.array(score_row(s[-3]), dtype=float)
        sc[0] = -1e18
        sc[list(set(s[:-2]))] = -1e18
        r = int((sc > sc[s[-2]]).sum())
        total += 1 / math.log2(r + 2) if r < 10 else 0
        count += 1
    return total / count


def top_successors(row):
    out = np.zeros_like(row)
    idx = np.argpartition(-row, KEEP)[:KEEP]
    out[idx] = np.maximum(row[idx], 0)
    return out


def top_singular_values(X, k, rng):
    """The k largest singular values of X by a randomized range finder (4 power iterations)."""
    Y = X @ rng.standard_normal((X.shape[1], k + 20))
    for _ in range(4):
        Y, _ = np.linalg.qr(X @ (X.T @ Y))
    return np.linalg.svd(Y.T @ X, compute_uv=False)[:k]


def low_rank(X, r, rng):
    Y = X @ rng.standard_normal((X.shape[1], r + 20))
    for _ in range(4):
        Y, _ = np.linalg.qr(X @ (X.T @ Y))
    U, s, Vt = np.linalg.svd(Y.T @ X, full_matrices=False)
    return ((Y @ U[:, :r]) * s[:r]) @ Vt[:r]


rng = np.random.default_rng(2026)
print(f'ML-1M: {len(train)} training users, {len(held)} held out, {V - 1} actions, '
      f'{int((S > 0).sum())} distinct pairs')
print(f'table top singular values (no noise): {np.round(top_singular_values(S, 6, rng), 1).tolist()}')
print(f'Markov chain (plain counts)    valid NDCG@10 {ndcg(lambda p: M[p] + 1e-6 * A / A.max()):.4f}')
for eps in [float(e) for e in sys.argv[1:]] or [4.0, 7.6]:
    sigma = sigma_for(eps, 1 / len(train))
    std = sigma * CLIP
    An = A + std * rng.standard_normal(V)
    N = S + std * rng.standard_normal((V, V))
    N[0, :] = 0
    N[:, 0] = 0
    tie = 1e-6 * An / np.abs(An).max()
    print(f'\nε_counts {eps}: σ = {sigma:.3f}, noise {std:.2f} a cell; noise singular values about '
          f'{2 * std * math.sqrt(V):.0f} (2σC√V), detectable structure needs more than {std * math.sqrt(V):.0f} (σC√V)')
    print(f'  noised top singular values: {np.round(top_singular_values(N, 6, rng), 1).tolist()}')
    print(f'  noised popularity            valid NDCG@10 {ndcg(lambda p: An):.4f}')
    T = np.where(N >= THRESHOLD * std, N, 0)
    print(f'  3σ cells, top {KEEP} a row       valid NDCG@10 {ndcg(lambda p: top_successors(T[p]) + tie):.4f}')
    for r in [8, 32, 128]:
        R = low_rank(N, r, rng)
        print(f'  rank {r:3d}, top {KEEP} a row      valid NDCG@10 {ndcg(lambda p: top_successors(R[p]) + tie):.4f}')
