#!/usr/bin/env bash
# End-to-end smoke test of the vendor CLIs against the local emulators:
#   aws (moto), gsutil (tests/tools/gcs_emulator.py over TLS), azcopy (Azurite).
# Starts the emulators if they are not running (and then stops them at the end),
# creates bucket/container "mlr-smoke", runs each CLI command with a timeout and
# checks exit status and output. Prints one line per step with its wall time and
# ends with "smoke: N passed, N failed". Exit 1 if any step failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${MLR_EMULATORS_RUN_DIR:-$ROOT/.tools/run}"  # as scripts/emulators.sh
B=mlr-smoke
started=0
if ! bash "$ROOT/scripts/emulators.sh" status >/dev/null 2>&1; then
  bash "$ROOT/scripts/emulators.sh" start >/dev/null
  started=1
fi
cleanup() { if ((started)); then bash "$ROOT/scripts/emulators.sh" stop >/dev/null; fi; }
trap cleanup EXIT

# shellcheck disable=SC1091
source "$RUN/emulators.env"
bash "$ROOT/scripts/make-buckets.sh" "$B" >/dev/null
# shellcheck disable=SC1090
source "$RUN/buckets-$B.env"

W="$(mktemp -d "$RUN/smoke.XXXXXX")"
trap 'rm -rf "$W"; cleanup' EXIT
echo "small file" >"$W/f"
echo "second version" >"$W/f2"
head -c $((9 * 1024 * 1024)) /dev/urandom >"$W/big"  # >= 8 MiB: gsutil resumable upload

pass=0 fail=0
# step <expected-rc> <grep-pattern or -> <description> -- cmd...
step() {
  local want="$1" pat="$2" desc="$3"; shift 4
  local t0 rc ms out="$W/out"
  t0=$(date +%s%N)
  set +e; "$@" >"$out" 2>&1; rc=$?; set -e
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [[ "$rc" == "$want" ]] && { [[ "$pat" == - ]] || grep -qE -- "$pat" "$out"; }; then
    pass=$((pass + 1)); printf 'ok   %5dms  %s\n' "$ms" "$desc"
  else
    fail=$((fail + 1)); printf 'FAIL %5dms  %s (rc=%s, want %s, pattern %s)\n' "$ms" "$desc" "$rc" "$want" "$pat"
    sed 's/sig=[^&" ]*/sig=REDACTED/g; s/^/    | /' "$out" | tail -n 15
  fi
}
check() { # check <description> <bash condition>
  if eval "$2"; then pass=$((pass + 1)); printf 'ok   %7s  %s\n' "" "$1"
  else fail=$((fail + 1)); printf 'FAIL %7s  %s\n' "" "$1"; fi
}

AWS=(timeout -k 5 60 "$MLR_AWS_CLI")
GS=(timeout -k 5 120 "$MLR_GSUTIL_CLI")
AZ=(timeout -k 5 120 "$MLR_AZCOPY_CLI")
S3="s3://$B/smoke"
GB="gs://$B/smoke"
AZC="$MLR_AZURE_URL/$B"

echo "== aws s3 -> moto ($MLR_S3_ENDPOINT)"
step 0 - "aws s3 cp up" -- "${AWS[@]}" s3 cp "$W/f" "$S3/f" --only-show-errors
step 0 'smoke/f$' "aws s3 ls --recursive" -- "${AWS[@]}" s3 ls "s3://$B/" --recursive
step 0 - "aws s3 cp down" -- "${AWS[@]}" s3 cp "$S3/f" "$W/f.s3" --only-show-errors
check "aws download is identical" 'cmp -s "$W/f" "$W/f.s3"'
step 0 ETag "aws s3api put-object --if-none-match '*' (create)" -- \
  "${AWS[@]}" s3api put-object --bucket "$B" --key smoke/lock --body "$W/f" --if-none-match '*'
step 255 PreconditionFailed "aws s3api put-object --if-none-match '*' (exists: 412)" -- \
  "${AWS[@]}" s3api put-object --bucket "$B" --key smoke/lock --body "$W/f" --if-none-match '*'
step 0 - "aws s3 rm" -- "${AWS[@]}" s3 rm "$S3/f" --only-show-errors
step 0 - "aws s3 rm (lock)" -- "${AWS[@]}" s3 rm "$S3/lock" --only-show-errors
step 255 NoSuchBucket "aws s3 ls missing bucket" -- "${AWS[@]}" s3 ls s3://no-such-bucket-mlr/

echo "== gsutil -> gcs_emulator ($MLR_GCS_ENDPOINT)"
gen() { "${GS[@]}" stat "$1" 2>/dev/null | awk '/Generation:/ {print $2}'; }
step 0 - "gsutil cp up" -- "${GS[@]}" -q cp "$W/f" "$GB/f"
step 0 "$GB/f\$" "gsutil ls" -- "${GS[@]}" ls "$GB/"
step 0 - "gsutil cp down" -- "${GS[@]}" -q cp "$GB/f" "$W/f.gs"
check "gsutil download is identical" 'cmp -s "$W/f" "$W/f.gs"'
step 0 - "gsutil -h x-goog-if-generation-match:0 cp (create)" -- \
  "${GS[@]}" -q -h x-goog-if-generation-match:0 cp "$W/f" "$GB/once"
step 1 'PreconditionException: 412' "gsutil -h x-goog-if-generation-match:0 cp (exists: 412)" -- \
  "${GS[@]}" -q -h x-goog-if-generation-match:0 cp "$W/f" "$GB/once"
g1="$(gen "$GB/once")"
check "gsutil stat reports a generation ($g1)" '[[ "$g1" =~ ^[0-9]+$ ]]'
step 0 "$GB/once#$g1\$" "gsutil ls -a shows the same generation" -- "${GS[@]}" ls -a "$GB/once"
step 0 - "gsutil cp if-generation-match:<current> (overwrite)" -- \
  "${GS[@]}" -q -h "x-goog-if-generation-match:$g1" cp "$W/f2" "$GB/once"
g2="$(gen "$GB/once")"
check "overwrite changed the generation ($g1 -> $g2)" '[[ "$g2" =~ ^[0-9]+$ && "$g2" -gt "$g1" ]]'
step 1 'PreconditionException: 412' "gsutil cp if-generation-match:<stale> (412)" -- \
  "${GS[@]}" -q -h "x-goog-if-generation-match:$g1" cp "$W/f" "$GB/once"
step 0 '^second version$' "gsutil cat (stale write did not land)" -- "${GS[@]}" cat "$GB/once"
step 1 'PreconditionException: 412' "gsutil cp gs->gs (rewrite) if-generation-match:<stale> (412)" -- \
  "${GS[@]}" -q -h "x-goog-if-generation-match:$g1" cp "$GB/f" "$GB/once"
step 1 'PreconditionException: 412' "gsutil rm if-generation-match:<stale> (412)" -- \
  "${GS[@]}" -q -h "x-goog-if-generation-match:$g1" rm "$GB/once"
step 0 - "gsutil rm if-generation-match:<current>" -- \
  "${GS[@]}" -q -h "x-goog-if-generation-match:$g2" rm "$GB/once"
step 0 - "gsutil 9 MiB resumable cp if-generation-match:0 (create)" -- \
  "${GS[@]}" -q -h x-goog-if-generation-match:0 cp "$W/big" "$GB/big"
step 1 '412' "gsutil 9 MiB resumable cp if-generation-match:0 (exists: 412)" -- \
  "${GS[@]}" -q -h x-goog-if-generation-match:0 cp "$W/big" "$GB/big"
step 0 - "gsutil cp down 9 MiB" -- "${GS[@]}" -q cp "$GB/big" "$W/big.gs"
check "gsutil 9 MiB download is identical" 'cmp -s "$W/big" "$W/big.gs"'
step 0 - "gsutil rm" -- "${GS[@]}" -q rm "$GB/f" "$GB/big"
step 1 'matched no objects|No URLs matched' "gsutil ls after rm (empty)" -- "${GS[@]}" ls "$GB/"
step 1 'BucketNotFoundException: 404' "gsutil ls missing bucket" -- "${GS[@]}" ls gs://no-such-bucket-mlr/

echo "== azcopy -> Azurite ($MLR_AZURE_URL)"
step 0 - "azcopy copy up --from-to LocalBlob" -- \
  "${AZ[@]}" copy "$W/f" "$AZC/smoke/f?$MLR_AZURE_SAS" --from-to LocalBlob --output-level quiet
step 0 'smoke/f; ' "azcopy list --location Blob" -- \
  "${AZ[@]}" list "$AZC?$MLR_AZURE_SAS" --location Blob
step 0 - "azcopy copy down --from-to BlobLocal" -- \
  "${AZ[@]}" copy "$AZC/smoke/f?$MLR_AZURE_SAS" "$W/f.az" --from-to BlobLocal --output-level quiet
check "azcopy download is identical" 'cmp -s "$W/f" "$W/f.az"'
step 1 AuthorizationPermissionMismatch "azcopy copy up with read-only SAS (403)" -- \
  "${AZ[@]}" copy "$W/f" "$AZC/smoke/ro?$MLR_AZURE_SAS_RO" --from-to LocalBlob
step 0 'smoke/f; ' "azcopy list with read-only SAS" -- \
  "${AZ[@]}" list "$AZC?$MLR_AZURE_SAS_RO" --location Blob
step 1 'AuthorizationFailure|AuthenticationFailed' "azcopy list with expired SAS (403)" -- \
  "${AZ[@]}" list "$AZC?$MLR_AZURE_SAS_EXPIRED" --location Blob
step 0 - "azcopy remove --from-to BlobTrash" -- \
  "${AZ[@]}" remove "$AZC/smoke/f?$MLR_AZURE_SAS" --from-to BlobTrash --output-level quiet
step 1 'The specified file was not found|BlobNotFound|404' "azcopy copy down missing blob" -- \
  "${AZ[@]}" copy "$AZC/smoke/f?$MLR_AZURE_SAS" "$W/f.az2" --from-to BlobLocal

echo "smoke: $pass passed, $fail failed"
((fail == 0))
