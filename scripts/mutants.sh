#!/usr/bin/env bash
# Mutation testing of the crates whose rules matter most: which rule could be broken with every
# test of its crate still green. Usage: bash scripts/mutants.sh [crate ...]
# (default: prepaid-domain prepaid-application prepaid-crypto). Needs cargo-mutants
# (`cargo install cargo-mutants --locked`); runs on a copy of the tree, so the working tree is
# never touched. Each crate is scored by its own tests (`--test-package`), as a user of that
# crate alone would be protected. Results: target/mutants/<crate>/mutants.out; the summary
# line of each crate is printed, and docs/RELIABILITY.md holds the figures and the reasoning
# for each mutant left alive. Mutants listed in .cargo/mutants.toml as equivalent are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || {
  echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
  exit 2
}
crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(prepaid-domain prepaid-application prepaid-crypto)
jobs="${MUTANTS_JOBS:-2}"
for crate in "${crates[@]}"; do
  out="target/mutants/$crate"
  mkdir -p "$out"
  echo "==> $crate"
  # Exit codes 2 (some mutants missed) and 3 (some timed out: caught by a hang) are findings,
  # not failures of the run.
  code=0
  cargo mutants --package "$crate" --test-package "$crate" --jobs "$jobs" \
    --output "$out" --no-shuffle --timeout-multiplier 3 >"$out/run.log" 2>&1 || code=$?
  case "$code" in
    0 | 2 | 3) ;;
    *) tail -20 "$out/run.log"; exit "$code" ;;
  esac
  caught=$(grep -c . "$out/mutants.out/caught.txt" 2>/dev/null || true)
  missed=$(grep -c . "$out/mutants.out/missed.txt" 2>/dev/null || true)
  timeout=$(grep -c . "$out/mutants.out/timeout.txt" 2>/dev/null || true)
  unviable=$(grep -c . "$out/mutants.out/unviable.txt" 2>/dev/null || true)
  total=$((caught + missed + timeout))
  score=$(python3 -c "print(f'{100 * ($caught + $timeout) / max($total, 1):.1f}')")
  echo "$crate: caught $caught, timeout $timeout, missed $missed, unviable $unviable: score $score %"
  if [ "$missed" -gt 0 ]; then
    sed 's/^/  missed: /' "$out/mutants.out/missed.txt"
  fi
done
