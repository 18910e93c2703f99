#!/usr/bin/env bash
# Differential privacy against accuracy and the membership leak (issue 16, parts 3-4).
#
#   bash bench/privacy.sh [--only shop|ml1m] [--shop-epochs N] [--ml1m-epochs N] [--ml1m-max-len N]
#                         [--eps "8 4 1"] [--shop-dp "FLAGS"] [--ml1m-dp "FLAGS"] [--out DIR]
#
# On the shop (hunch synth --users 10000 --seed 1, session protocol, default flags) and on
# MovieLens-1M (../shared/data, the recipe of bench/ml1m-quality.sh, but training on each user's
# last --ml1m-max-len events to keep a run to minutes): plain training and DP-SGD at ε = 1, 4 and
# 8 (δ = 1 / training users), every run with the same 10% of users held out of training
# (--holdout-users 0.1, seed 42) and the same number of epochs (plain: at most that many, early
# stopping as usual; DP: that many planned, the budget spent at the last one). Each model is then
# evaluated on the test split (NDCG@10) and attacked (hunch eval --membership: AUC of a loss
# threshold between training and held-out users). Writes per run the training log and the eval
# JSON (and its flags), and TABLE.md with NDCG@10 (and relative to plain), membership AUC, ε spent and median
# seconds per epoch (DP / plain) to bench/results/privacy/. The DP runs count the count-based
# start's popularity and transition table with Gaussian noise in the same ε (hunch train
# --dp-count-share, default of the CLI unless --shop-dp / --ml1m-dp say otherwise: those replace
# each log's DP flags, "--batch 256 --lr 1e-2" and "--batch 512"); --eps picks the ε values.
#
# Short on purpose (a shared 2-core machine): epochs are counted, not timed (the machine's load
# changes the seconds, not the epochs); ML-1M's plain model is far from its converged figure
# (README: ~70 epochs). A 20-minute safety budget per run stops a run that hangs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmdline="bash bench/privacy.sh"
for a in "$@"; do case "$a" in *" "*) cmdline+=" \"$a\"" ;; *) cmdline+=" $a" ;; esac; done

budget=1200
only=""
shop_epochs=12
ml1m_epochs=8
ml1m_max_len=50
out=bench/results/privacy
eps_list="8 4 1"
shop_dp="--batch 256 --lr 1e-2"
ml1m_dp="--batch 512"
while [ $# -gt 0 ]; do
  case "$1" in
    --eps) eps_list="$2"; shift 2 ;;
    --shop-dp) shop_dp="$2"; shift 2 ;;
    --ml1m-dp) ml1m_dp="$2"; shift 2 ;;
    --ml1m-max-len) ml1m_max_len="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --shop-epochs) shop_epochs="$2"; shift 2 ;;
    --ml1m-epochs) ml1m_epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n 2,26p "$0"; exit 0 ;;
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
  echo "$tflags" > "$out/$name.flags"
  # shellcheck disable=SC2086
  $hunch train "$events" -o "$work/$name.hunch" $tflags --threads $threads > "$out/$name.log" 2>&1 ||
    { tail -5 "$out/$name.log"; exit 1; }
  grep -E "best epoch|differential privacy|composed with|^DP counts|^count head|^no epoch reached|time budget|held-out" "$out/$name.log" || true
  # shellcheck disable=SC2086
  $hunch eval "$work/$name.hunch" "$events" $eflags --membership --threads $threads --json \
    > "$out/$name.json" 2>> "$out/$name.log"
  grep -E "^membership" "$out/$name.log" || true
}

if [ "$only" != ml1m ]; then
  $hunch synth --users 10000 --seed 1 --quiet -o "$work/shop.csv.gz"
  base="--protocol sessions --holdout-users 0.1 --time-budget $budget --epochs $shop_epochs"
  run shop-plain "$work/shop.csv.gz" "$base" "--protocol sessions"
  for eps in $eps_list; do
    # A larger rate: a DP epoch is 31 noisy steps (batch 256), a plain one 240 (batch 32); at
    # ε = 8, 3e-3 reached valid NDCG@10 0.335 after 5 epochs, 1e-2 0.389 (bench/results/privacy/NOTES.md).
    run "shop-dp$eps" "$work/shop.csv.gz" "$base --dp-epsilon $eps $shop_dp" "--protocol sessions"
  done
fi

if [ "$only" != shop ]; then
  data=../shared/data/ml-1m/ml-1m.txt
  [ -f "$data" ] || { echo "privacy.sh: $data not found" >&2; exit 1; }
  ml="--format pairs --session-gap 0 --min-count 1 --min-length 1 --max-vocab 999999 --exclude-seen"
  recipe="--event-drop 0.3 --lookahead 3 --lookahead-decay 0.5 --mask-seen --patience 10 --no-copy --transitions 0"
  base="$ml $recipe --max-len $ml1m_max_len --holdout-users 0.1 --time-budget $budget --epochs $ml1m_epochs"
  run ml1m-plain "$data" "$base" "$ml"
  for eps in $eps_list; do
    run "ml1m-dp$eps" "$data" "$base --dp-epsilon $eps $ml1m_dp" "$ml"
  done
fi

# The table, from the logs and JSONs.
python3 - "$out" "$cmdline" <<'EOF'
import json, os, re, sys
out, cmdline = sys.argv[1:3]
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
        # Not the count head's validate-only epoch (no step: "0.0 s (0 ev/s)").
        epochs = len([l for l in re.findall(r"^epoch +\d+ +loss.*$", log, re.M) if "(0 ev/s)" not in l])
        dp = re.search(r"differential privacy: ε = ([\d.]+) spent \(target ([\d.]+), δ = ([\d.e+-]+)\) over (\d+) of (\d+) "
                       r"planned steps.*?noise σ = ([\d.]+)", log)
        fl = open(f"{out}/{name}.flags").read().strip() if os.path.exists(f"{out}/{name}.flags") else ""
        split = re.search(r"composed with the count start's release .*?: ε = ([\d.]+) of it alone, ([\d.]+) of DP-SGD alone", log)
        count_head = re.search(r"^no epoch reached the count head's valid NDCG@10", log, re.M) is not None
        extra = fl[fl.index("--dp-epsilon"):] if "--dp-epsilon" in fl else ""
        row = dict(name=name, extra=extra, ndcg=ndcg, auc=r["membership"]["auc"], secs=secs, epochs=epochs,
                   eps=float(dp.group(1)) if dp else None, delta=dp.group(3) if dp else "",
                   steps=f"{dp.group(4)}/{dp.group(5)}" if dp else "", sigma=dp.group(6) if dp else "",
                   split=f"{float(split.group(1)):.2f} + {float(split.group(2)):.2f}" if split else ("0 + all" if dp else ""),
                   head="counts" if count_head else "network")
        if run == "plain":
            plain = row
        row["rel"] = ndcg / plain["ndcg"] - 1 if plain and plain["ndcg"] else float("nan")
        row["time"] = secs / plain["secs"] if plain and plain["secs"] else float("nan")
        rows.append(row)
with open(f"{out}/TABLE.md", "w") as f:
    f.write(f"`{cmdline}` (the last command; the rows of either log come from its last run in {out}; test split; membership AUC over training vs held-out users; "
            "seconds per epoch on a shared, loaded 2-core machine):\n\n")
    f.write("| run | DP flags | ε spent (δ) | ε alone: counts + DP-SGD | σ | steps | epochs | action head | NDCG@10 | vs plain | membership AUC | s / epoch | DP / plain time |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        eps = f"{r['eps']:.2f} ({float(r['delta']):.2g})" if r["eps"] is not None else "∞ (plain)"
        f.write(f"| {r['name']} | {('`' + r['extra'] + '`') if r['extra'] else ''} | {eps} | {r['split']} | {r['sigma']} | {r['steps']} | {r['epochs']} | {r['head']} | {r['ndcg']:.4f} | "
                f"{100 * r['rel']:+.1f}% | {r['auc']:.4f} | {r['secs']:.1f} | {r['time']:.2f}× |\n")
print(open(f"{out}/TABLE.md").read())
EOF
