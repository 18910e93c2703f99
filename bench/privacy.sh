#!/usr/bin/env bash
# Differential privacy against accuracy and the membership leak (issue 16, parts 3-4).
#
#   bash bench/privacy.sh [--budget S] [--only shop|ml1m] [--shop-epochs N] [--ml1m-epochs N] [--out DIR]
#
# On the shop (hunch synth --users 10000 --seed 1, session protocol, default flags) and on
# MovieLens-1M (../shared/data, the recipe of bench/ml1m-quality.sh): plain training and DP-SGD at
# ε = 1, 4 and 8 (δ = 1 / training users), every run with the same 10% of users held out of
# training (--holdout-users 0.1, seed 42), each within a short time budget. Each model is then
# evaluated on the held-out test split (NDCG@10) and attacked (hunch eval --membership: AUC of a
# loss threshold between training and held-out users). Writes per run the training log and the
# eval JSON, and TABLE.md with NDCG@10 (and relative to plain), membership AUC, ε spent and
# seconds per epoch (DP / plain) to bench/results/privacy/.
#
# Budgets are short on purpose (a shared 2-core machine): the plain runs stop at --budget
# seconds, far from their converged figures (README: ML-1M's needs ~70 epochs); the DP runs plan
# --shop-epochs / --ml1m-epochs epochs so that their steps (and so their ε) are spent within about
# the same time; a DP run that the budget stops early reports the smaller ε it spent.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=120
only=""
shop_epochs=12
ml1m_epochs=6
out=bench/results/privacy
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --shop-epochs) shop_epochs="$2"; shift 2 ;;
    --ml1m-epochs) ml1m_epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n 2,19p "$0"; exit 0 ;;
    *) echo "privacy.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
hunch=build/native/hunch
[ -x "$hunch" ] || bash scripts/build.sh native
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
threads=2

# run NAME EVENTS "TRAIN FLAGS" "EVAL FLAGS": trains, evaluates with --membership, keeps the log and the JSON.
run() {
  local name=$1 events=$2 tflags=$3 eflags=$4
  echo "== $name: hunch train $tflags"
  # shellcheck disable=SC2086
  $hunch train "$events" -o "$work/$name.hunch" $tflags --threads $threads > "$out/$name.log" 2>&1 ||
    { tail -5 "$out/$name.log"; exit 1; }
  grep -E "best epoch|differential privacy|time budget|held-out" "$out/$name.log" || true
  # shellcheck disable=SC2086
  $hunch eval "$work/$name.hunch" "$events" $eflags --membership --threads $threads --json \
    > "$out/$name.json" 2>> "$out/$name.log"
  grep -E "^membership" "$out/$name.log" || true
}

if [ "$only" != ml1m ]; then
  $hunch synth --users 10000 --seed 1 --quiet -o "$work/shop.csv.gz"
  base="--protocol sessions --holdout-users 0.1 --time-budget $budget"
  run shop-plain "$work/shop.csv.gz" "$base" "--protocol sessions"
  for eps in 8 4 1; do
    run "shop-dp$eps" "$work/shop.csv.gz" "$base --dp-epsilon $eps --epochs $shop_epochs --batch 256" "--protocol sessions"
  done
fi

if [ "$only" != shop ]; then
  data=../shared/data/ml-1m/ml-1m.txt
  [ -f "$data" ] || { echo "privacy.sh: $data not found" >&2; exit 1; }
  ml="--format pairs --session-gap 0 --min-count 1 --min-length 1 --max-vocab 999999 --exclude-seen"
  recipe="--event-drop 0.3 --lookahead 3 --lookahead-decay 0.5 --mask-seen --patience 10 --no-copy --transitions 0"
  base="$ml $recipe --holdout-users 0.1 --time-budget $budget"
  run ml1m-plain "$data" "$base" "$ml"
  for eps in 8 4 1; do
    run "ml1m-dp$eps" "$data" "$base --dp-epsilon $eps --epochs $ml1m_epochs --batch 512" "$ml"
  done
fi

# The table, from the logs and JSONs.
python3 - "$out" "$budget" "$shop_epochs" "$ml1m_epochs" <<'EOF'
import json, os, re, sys
out, budget, shop_epochs, ml1m_epochs = sys.argv[1:5]
rows = []
for data in ("shop", "ml1m"):
    plain = None
    for run in ("plain", "dp8", "dp4", "dp1"):
        name = f"{data}-{run}"
        if not os.path.exists(f"{out}/{name}.json"):
            continue
        r = json.load(open(f"{out}/{name}.json"))
        log = open(f"{out}/{name}.log").read()
        if r.get("protocol") == "sessions":
            ndcg = r["test"]["methods"]["model"]["NDCG@10"]
        else:
            ndcg = r["model"]["NDCG@10"]
        m = re.search(r"best epoch (\d+).*?; ([\d.]+) s per epoch", log)
        secs = float(m.group(2)) if m else float("nan")
        epochs = len(re.findall(r"^epoch +\d+ +loss", log, re.M))
        dp = re.search(r"differential privacy: ε = ([\d.]+) spent \(target ([\d.]+), δ = ([\d.e+-]+)\) over (\d+) of (\d+) "
                       r"planned steps.*?noise σ = ([\d.]+)", log)
        row = dict(name=name, ndcg=ndcg, auc=r["membership"]["auc"], secs=secs, epochs=epochs,
                   eps=float(dp.group(1)) if dp else None, delta=dp.group(3) if dp else "",
                   steps=f"{dp.group(4)}/{dp.group(5)}" if dp else "", sigma=dp.group(6) if dp else "")
        if run == "plain":
            plain = row
        row["rel"] = ndcg / plain["ndcg"] - 1 if plain and plain["ndcg"] else float("nan")
        row["time"] = secs / plain["secs"] if plain and plain["secs"] else float("nan")
        rows.append(row)
with open(f"{out}/TABLE.md", "w") as f:
    f.write(f"`bash bench/privacy.sh --budget {budget} --shop-epochs {shop_epochs} --ml1m-epochs {ml1m_epochs}` "
            "(test split; membership AUC over training vs held-out users):\n\n")
    f.write("| run | ε spent (δ) | σ | steps | epochs | NDCG@10 | vs plain | membership AUC | s / epoch | DP / plain time |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        eps = f"{r['eps']:.2f} ({float(r['delta']):.2g})" if r["eps"] is not None else "∞ (plain)"
        f.write(f"| {r['name']} | {eps} | {r['sigma']} | {r['steps']} | {r['epochs']} | {r['ndcg']:.4f} | "
                f"{100 * r['rel']:+.1f}% | {r['auc']:.4f} | {r['secs']:.1f} | {r['time']:.2f}× |\n")
print(open(f"{out}/TABLE.md").read())
EOF
