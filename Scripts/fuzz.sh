#!/usr/bin/env bash
# Fuzzes ConvLens's readers of untrusted files with libFuzzer and AddressSanitizer: the image-decoder wrappers
# (image), the restricted unpickler (pickle), the zip reader and torch zip checkpoints (zip), the safetensors
# parser (safetensors), the kernel file of `activations --kernel` (kernels), the ONNX reader (onnx), class-name files
# (labels) and Keras files with the HDF5 reader (keras). Each target first replays every input that once crashed it (Fuzz/Regressions/<target>),
# then runs a fixed number of executions starting from its seed corpus (Fuzz/Corpus/<target>) and those regressions.
#
#   bash Scripts/fuzz.sh                      every target, 1,000,000 executions each
#   bash Scripts/fuzz.sh --runs 50000 zip     one target, fewer executions
#   bash Scripts/fuzz.sh --time 3600 pickle   one hour instead of a number of executions
#   bash Scripts/fuzz.sh image -- -jobs=2     anything after -- goes to libFuzzer
#
# Fuzz targets are built here with swiftc directly (SwiftPM cannot give one product -sanitize=fuzzer without giving
# it to the convlens executable too, whose main would clash with libFuzzer's): each target is one module made of
# its library's sources (TensorIO or Imaging) plus Fuzz/Targets/Fuzz<Name>.swift and Fuzz/Entry/<name>.swift,
# so the harness reaches internal API. Support is a separate module, as in the package, with its C hash CSHA256;
# that and the C shims CPNG and CJPEG are compiled with coverage too (libpng, libjpeg and zlib are the system's,
# uninstrumented).
# Everything lands in .build-fuzz/: bin/, corpus/<target> (what libFuzzer found, reused by the next run),
# artifacts/<target> (crashing inputs), logs/<target>.log. A crash exits non-zero; move the artifact to
# Fuzz/Regressions/<target>/ once fixed, and FuzzTests will replay it in `swift test` from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/.build-fuzz
RUNS=1000000
TIME=0
ALL_TARGETS=(image pickle zip safetensors kernels onnx labels keras)   # each has Fuzz/Targets/Fuzz<Name>.swift and Fuzz/Entry/<name>.swift
TARGETS=()
EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --time) TIME=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) if [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]]; then TARGETS+=("$1"); shift
       else echo "fuzz.sh: unknown argument '$1'; targets are ${ALL_TARGETS[*]}" >&2; exit 2; fi ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

SWIFTC=$(command -v swiftc)
CLANG=$(dirname "$SWIFTC")/clang  # the clang that ships with Swift has the libFuzzer runtime swiftc links
SAN=(-sanitize=fuzzer,address)
SWIFTFLAGS=(-O -g -parse-as-library -D FUZZING -swift-version 5)
mkdir -p "$OUT"/{bin,obj,mod/CPNG,mod/CJPEG,mod/CSHA256,logs}
# Support imports CSHA256, so Support and every target that imports Support see its module map.
SHA_MAP=(-Xcc "-fmodule-map-file=$OUT/mod/CSHA256/module.modulemap")

# stale OUTPUT INPUT...: true when OUTPUT is missing or older than any input.
stale() {
  local out=$1; shift
  [ -e "$out" ] || return 0
  for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
  return 1
}
say() { printf 'fuzz: %s\n' "$*"; }
# quietly CMD...: runs a build step, showing its output only when it fails (the ASan link warns about every
# symbol it cannot export).
quietly() {
  if ! "$@" > "$OUT/logs/build.log" 2>&1; then
    grep -v "ld.gold: warning" "$OUT/logs/build.log" >&2
    exit 1
  fi
}

build() {
  printf 'module CSHA256 {\n    header "%s"\n    export *\n}\n' "$ROOT/Sources/CSHA256/include/csha256.h" \
    > "$OUT/mod/CSHA256/module.modulemap"
  if stale "$OUT/obj/sha256.o" Sources/CSHA256/sha256.c Sources/CSHA256/include/csha256.h; then
    say "building CSHA256"
    quietly "$CLANG" -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CSHA256/include -c Sources/CSHA256/sha256.c \
      -o "$OUT/obj/sha256.o"
  fi
  if stale "$OUT/obj/Support.o" Sources/Support/*.swift "$OUT/obj/sha256.o" "$0"; then
    say "building Support"
    quietly "$SWIFTC" "${SAN[@]}" "${SWIFTFLAGS[@]}" "${SHA_MAP[@]}" -c -wmo -module-name Support -emit-module \
      -emit-module-path "$OUT/mod/Support.swiftmodule" Sources/Support/*.swift -o "$OUT/obj/Support.o"
  fi
  for shim in CPNG CJPEG; do
    local lower; lower=$(echo "$shim" | tr 'A-Z' 'a-z')
    printf 'module %s {\n    header "%s"\n    export *\n}\n' "$shim" "$ROOT/Sources/$shim/include/$lower.h" \
      > "$OUT/mod/$shim/module.modulemap"
    if stale "$OUT/obj/$lower.o" "Sources/$shim/$lower.c" "Sources/$shim/include/$lower.h"; then
      say "building $shim"
      quietly "$CLANG" -O1 -g -fsanitize=fuzzer-no-link,address -I "Sources/$shim/include" -c "Sources/$shim/$lower.c" \
        -o "$OUT/obj/$lower.o"
    fi
  done
}

# target_sources NAME: the Swift files and link inputs of a target.
build_target() {
  local t=$1 Name lib
  case $t in
    image) Name=Image; lib=Imaging ;;
    pickle) Name=Pickle; lib=TensorIO ;;
    zip) Name=Zip; lib=TensorIO ;;
    safetensors) Name=Safetensors; lib=TensorIO ;;
    kernels) Name=Kernels; lib=TensorIO ;;
    onnx) Name=ONNX; lib=TensorIO ;;
    labels) Name=Labels; lib=TensorIO ;;
    keras) Name=Keras; lib=TensorIO ;;
  esac
  local sources=(Sources/$lib/*.swift "Fuzz/Targets/Fuzz$Name.swift" "Fuzz/Entry/$t.swift")
  local link=("$OUT/obj/Support.o" "$OUT/obj/sha256.o")
  local cflags=(-I "$OUT/mod" "${SHA_MAP[@]}")
  if [ "$lib" = Imaging ]; then
    link+=("$OUT/obj/cpng.o" "$OUT/obj/cjpeg.o" -lpng16 -ljpeg)
    cflags+=(-Xcc "-fmodule-map-file=$OUT/mod/CPNG/module.modulemap" -Xcc "-fmodule-map-file=$OUT/mod/CJPEG/module.modulemap")
  else
    link+=(-lz)
    cflags+=(-Xcc "-fmodule-map-file=$ROOT/Sources/CZlib/module.modulemap")
  fi
  if stale "$OUT/bin/fuzz-$t" "${sources[@]}" "$OUT/obj/Support.o" "$OUT/obj/cpng.o" "$OUT/obj/cjpeg.o" "$0"; then
    say "building fuzz-$t"
    quietly "$SWIFTC" "${SAN[@]}" "${SWIFTFLAGS[@]}" -module-name "Fuzz$Name" "${cflags[@]}" "${sources[@]}" "${link[@]}" \
      -o "$OUT/bin/fuzz-$t"
  fi
}

# Largest input libFuzzer makes per target: room for every seed and for the structures each format nests.
max_len() {
  case $1 in image) echo 32768 ;; keras) echo 40960 ;; *) echo 16384 ;; esac
}

export SWIFT_BACKTRACE=enable=no  # let libFuzzer and ASan report crashes, not Swift's interactive backtracer
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

build
status=0
summary=()
for t in "${TARGETS[@]}"; do
  build_target "$t"
  bin=$OUT/bin/fuzz-$t
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
  regressions=(Fuzz/Regressions/$t/*)
  if [ -e "${regressions[0]}" ]; then
    say "$t: replaying ${#regressions[@]} regression input(s)"
    if ! "$bin" "${regressions[@]}" > "$OUT/logs/$t-regressions.log" 2>&1; then
      say "$t: a regression input crashes again; see $OUT/logs/$t-regressions.log"
      status=1; summary+=("$t: REGRESSION"); continue
    fi
  fi
  seeds=("Fuzz/Corpus/$t")  # libFuzzer adds what it finds to the first directory, .build-fuzz/corpus/<target>
  [ -e "${regressions[0]}" ] && seeds+=("Fuzz/Regressions/$t")
  limit=(-runs="$RUNS")
  [ "$TIME" -gt 0 ] && limit=(-max_total_time="$TIME")
  say "$t: ${limit[0]#-} (log: $OUT/logs/$t.log)"
  set +e
  nice -n 10 "$bin" "${limit[@]}" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 \
    -dict="Fuzz/Dictionaries/$t.dict" -artifact_prefix="$OUT/artifacts/$t/" -print_final_stats=1 \
    ${EXTRA[@]+"${EXTRA[@]}"} "$OUT/corpus/$t" "${seeds[@]}" > "$OUT/logs/$t.log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$OUT/logs/$t.log" | awk '{s+=$2} END {print s+0}')
  corpus=$(ls "$OUT/corpus/$t" | wc -l)
  if [ $rc -ne 0 ]; then
    status=1
    crash=$(ls -t "$OUT/artifacts/$t" 2>/dev/null | head -1)
    summary+=("$t: CRASH after $runs executions: $OUT/artifacts/$t/$crash (log: $OUT/logs/$t.log)")
  else
    summary+=("$t: $runs executions, no crash (corpus $corpus inputs)")
  fi
done
say "summary"
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
