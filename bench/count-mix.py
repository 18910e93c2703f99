#!/usr/bin/env python3
"""Why the count head (issue 14, session 6): simple count mixes on YOOCHOOSE's validation sessions.

A rough re-implementation, in plain Python, of the session split hunch uses (sessions by start
time: the last 10% test, the 10% before validation; no gap splitting, no min-users), scoring the
next click after every click of a held-out session over all items (NDCG@10, ties against the
target, popularity as a 1e-6 tie-break). It prints:
  - first-order Markov (successor counts);
  - Markov counts plus the session's history (+0.5 / distance for each earlier item);
  - a log-linear mix of count-bucket and distance weights with popularity's log at weight lambda:
    lambda = 1 is what a likelihood fit gives popularity; near 0 it is only a tie-break.
The figures are quoted in bench/results/next-action/NOTES.md ("The count head").

usage: python3 bench/count-mix.py [valid|test]    (about a minute; reads ../shared/data)
"""
import collections
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, '..', '..', 'shared', 'data', 'yoochoose-sample', 'yoochoose-clicks-100k_train_full.txt')
rows = [line.rstrip('\n').split('\t') for line in open(path)][1:]
sessions = collections.defaultdict(list)
for s, item, t in rows:
    sessions[s].append((float(t), item))
ordered = sorted(sessions.values(), key=lambda e: min(e)[0])
ordered = [[item for _, item in sorted(e)] for e in ordered]
n = len(ordered)
held = n // 10
train, valid, test = ordered[:n - 2 * held], ordered[n - 2 * held:n - held], ordered[n - held:]
split = test if sys.argv[1:] == ['test'] else valid

pop = collections.Counter(i for s in train for i in s)
succ = collections.defaultdict(collections.Counter)
for s in train:
    for k in range(len(s) - 1):
        succ[s[k]][s[k + 1]] += 1
items = list(pop)
log_pop = {i: math.log(c) for i, c in pop.items()}


def ndcg(score, lam):
    """Mean NDCG@10 of score(history) -> {item: bonus}, plus lam * log popularity."""
    total = count = 0
    for s in split:
        for k in range(len(s) - 1):
            history, target = s[:k + 1], s[k + 1]
            count += 1
            if target not in pop:
                continue
            bonus = score(history)
            value = lambda i: bonus.get(i, 0.0) + (lam + 1e-6) * log_pop[i]
            tv = value(target)
            rank = 0
            for i in items:
                if value(i) > tv:
                    rank += 1
                    if rank >= 10:
                        break
            if rank < 10:
                total += 1 / math.log2(rank + 2)
    return total / count


def markov(history):
    return dict(succ[history[-1]])


def markov_history(history):
    bonus = collections.Counter(succ[history[-1]])
    seen = set()
    for d, item in enumerate(reversed(history)):
        if item not in seen:
            seen.add(item)
            bonus[item] += 0.5 / (d + 1)
    return bonus


def log_linear(history):
    count_w = [3.0, 3.7, 4.1, 4.4, 4.6, 4.8]  # successor seen 1, 2, … 6+ times
    dist_w = [3.0, 2.5, 2.0, 1.7, 1.5]          # an earlier item at distance 0, 1, … 4+
    bonus = collections.Counter()
    for item, c in succ[history[-1]].items():
        bonus[item] += count_w[min(c, len(count_w)) - 1]
    seen = set()
    for d, item in enumerate(reversed(history)):
        if item not in seen:
            seen.add(item)
            bonus[item] += dist_w[min(d, len(dist_w) - 1)]
    return bonus


print(f'YOOCHOOSE sample, {"test" if split is test else "validation"} sessions: NDCG@10')
print(f'  Markov (successor counts, popularity a tie-break)        {ndcg(markov, 0):.4f}')
print(f'  Markov + the history (+0.5 / distance)                   {ndcg(markov_history, 0):.4f}')
for lam in (0, 0.1, 0.3, 0.6, 1.0):
    print(f'  count and distance weights, popularity at lambda = {lam:<4} {ndcg(log_linear, lam):.4f}')
