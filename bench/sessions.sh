#!/bin/bash
# The session protocol on every log in ../shared/data that has sessions, beside the baselines:
# hunch (int8, as shipped) against popularity / Markov / repeat for next action, type Markov
# for next type, the hand-feature logistic regression for exit and conversion, and on the shop
# the generator's own probabilities (the oracle, `hunch synth --truth`).
#
# usage: bench/sessions.sh [--budget S] [--arch A] [--split valid|test] [--only NAME] [--tag T] [-- extra train flags]
#   --budget  training time budget per log in seconds (default 300; patience usually stops sooner)
#   --arch    transformer (default) or lstm-attn
#   --split   which held-out sessions the table shows (default valid: choose settings on these;
#             look at test once per recipe)
#   --only    one log: shop, taobao, rees46, yoochoose, access-log, otto (OTTO's 20 sessions are
#             a format sample: 2 validation and 2 test sessions)
#   --tag     results go to bench/results/sessions/<tag>/ (default: default)
#   --table   no training: print the table of the tag's existing results for --split
#   --attrs   name each log's attribute columns (Taobao: category; REES46: category_id, brand
#             and price as numeric; the shop and YOOCHOOSE have none). Since session 12 `hunch
#             train` finds these same columns by name; -- --attr-columns none trains without them
# Everything after -- goes to `hunch train` (a variant to compare, e.g. -- --embed 32).
# Writes <log>.train.log and <log>.json per log and prints the table (also TABLE-<split>.md).
set -euo pipefail
cd "$(dirname "$0")/.."

budget=300 arch=transformer split=valid only="" tag=default table=0 attrs=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget=$2; shift ;;
    --arch) arch=$2; shift ;;
    --split) split=$2; shift ;;
    --only) only=$2; shift ;;
    --tag) tag=$2; shift ;;
    --table) table=1 ;;
    --attrs) attrs=1 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) echo "sessions.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$split" in valid|test) ;; *) echo "sessions.sh: --split valid or test" >&2; exit 2 ;; esac

hunch=${HUNCH:-build/native/hunch}
[ -x "$hunch" ] || bash scripts/build.sh native
data=../shared/data
out=bench/results/sessions/$tag
tmp=build/bench-sessions
mkdir -p "$out" "$tmp"

# name | events file | ingestion flags (the logs' own column names) | attribute flags (--attrs)
logs=(
  "shop|$tmp/shop.csv.gz||"
  "taobao|$tmp/taobao.csv||--attr-columns category"
  "rees46|$data/rees46-sample/2019-Oct_head17k.csv|--time-column event_time --action-column product_id|--attr-columns category_id,brand --numeric-columns price"
  "yoochoose|$data/yoochoose-sample/yoochoose-clicks-100k_train_full.txt||"
  "access-log|$data/access-log/apache.log|--format access-log|"
  "otto|$data/otto-sample/train_20sessions.jsonl||"
)
# The shop with its truth; Taobao's file has no header (ingestion needs one).
[ -f "$tmp/shop.csv.gz" ] || "$hunch" synth --users 10000 --seed 1 -o "$tmp/shop.csv.gz" --truth "$tmp/shop-truth.csv" >/dev/null
[ -f "$tmp/taobao.csv" ] || { echo "user,item,category,type,time"; cat "$data/taobao-userbehavior/UserBehavior_head84k.csv"; } > "$tmp/taobao.csv"

for spec in "${logs[@]}"; do
  IFS='|' read -r name file flags attr_flags <<< "$spec"
  [ "$attrs" = 1 ] && flags="$flags $attr_flags"
  [ "$table" = 1 ] && break
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  [ -f "$file" ] || { echo "sessions.sh: $file not found; skipping $name" >&2; continue; }
  echo "== $name: train ($arch, budget ${budget}s) ==" >&2
  # shellcheck disable=SC2086
  # --min-users 1: the vocabulary of the results before issue 16 (comparable figures; docs/privacy.md).
  "$hunch" train "$file" -o "$out/$name.hunch" --protocol sessions --arch "$arch" --time-budget "$budget" \
    --min-users 1 $flags "${extra[@]}" > "$out/$name.train.log" 2>&1 || { tail -5 "$out/$name.train.log" >&2; exit 1; }
  truth=()
  [ "$name" = shop ] && truth=(--truth "$tmp/shop-truth.csv")
  # shellcheck disable=SC2086
  "$hunch" eval "$out/$name.hunch" "$file" --protocol sessions $flags "${truth[@]}" --json > "$out/$name.json" 2>/dev/null
done

node - "$out" "$split" <<'EOF' | tee "$out/TABLE-$split.md"
const fs = require('fs');
const [dir, split] = process.argv.slice(2);
const f = (v, d = 4) => (v === null || v === undefined ? '–' : v.toFixed(d));
const rows = [];
rows.push(`Session protocol, ${split} sessions (bench/sessions.sh; int8 models)\n`);
rows.push('| log | points | NDCG@10 model | best baseline | type F1 model / markov | exit AUC model / logistic / oracle | exit ECE model | conv AUC model / logistic / oracle | conv ECE model |');
rows.push('|---|---|---|---|---|---|---|---|---|');
for (const name of ['shop', 'taobao', 'rees46', 'yoochoose', 'access-log', 'otto']) {
  const p = `${dir}/${name}.json`;
  if (!fs.existsSync(p)) continue;
  const d = JSON.parse(fs.readFileSync(p, 'utf8'));
  const s = d[split], m = s.methods;
  const best = ['popularity', 'markov', 'repeat'].map((k) => [k, m[k]['NDCG@10']]).sort((a, b) => b[1] - a[1])[0];
  const bin = (head, k) => (d.unscored[head] ? null : m[k] && m[k][head] ? m[k][head].AUC : null);
  const ece = (head) => (d.unscored[head] ? null : m.model[head].ECE);
  rows.push(`| ${name} | ${s.points} | ${f(m.model['NDCG@10'])} | ${f(best[1])} (${best[0]}) | ` +
    `${f(m.model.type_macro_f1)} / ${f(m.markov.type_macro_f1)} | ` +
    `${f(bin('exit', 'model'))} / ${f(bin('exit', 'logistic'))} / ${f(bin('exit', 'oracle'))} | ${f(ece('exit'))} | ` +
    `${f(bin('conversion', 'model'))} / ${f(bin('conversion', 'logistic'))} / ${f(bin('conversion', 'oracle'))} | ${f(ece('conversion'))} |`);
  for (const [k, v] of Object.entries(d.unscored)) rows.push(`|  | ${name}: not scored: ${k}: ${v} | | | | | | | |`);
}
console.log(rows.join('\n'));
EOF
