#!/usr/bin/env bash
# Installs the test environment into <repo>/.tools (gitignored). Idempotent:
# each component has a stamp in .tools/stamps holding its spec; a component whose
# stamp matches and whose files exist is skipped. Nothing is written to $HOME or
# to the system Python (pip/npm caches live in .tools/cache).
#
#   .tools/kx/{libe.so,k.h}   KX C API library + header, from the pykx wheel
#   .tools/venv               python venv: qls, aws, moto_server, gsutil,
#                             gcp-storage-emulator, azure-storage-blob, sklearn
#   .tools/npm                azcopy (npm-packaged binary) + azurite
#   .tools/tls/{cert,key}.pem self-signed cert for 127.0.0.1
#   .tools/bin/               stable paths: aws gsutil azcopy azurite
#                             azurite-blob moto_server qls python(wrapper)
#
# Env: PYTHON (default python3), TEST_ENV_FORCE=1 to reinstall everything.
set -euo pipefail

START_NS=$(date +%s%N)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
STAMPS="$TOOLS/stamps"
PY="${PYTHON:-python3}"
export PIP_CACHE_DIR="$TOOLS/cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_cache="$TOOLS/cache/npm"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Hard upper bound for any single install step (seconds).
STEP_TIMEOUT="${TEST_ENV_STEP_TIMEOUT:-1200}"

PYKX_VERSION=4.2.0
VENV_PKGS=(
  'q-lang-server==1.0.5'
  'awscli==1.46.3'
  'moto[s3]==5.2.5'
  flask
  flask-cors
  'gsutil==5.38'
  'gcp-storage-emulator==2026.7.19'
  azure-storage-blob
  scikit-learn
  joblib
  pandas
  lz4
)
NPM_PKGS=('@azure-tools/azcopy-linux@10.32.2' 'azurite@3.35.0')

mkdir -p "$STAMPS" "$TOOLS/bin"

log() { printf '%-10s %s\n' "$1" "$2"; }
stamp_ok() { [[ -z "${TEST_ENV_FORCE:-}" && -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { printf '%s' "$2" >"$STAMPS/$1"; }

# ---------------------------------------------------------------- kx (libe.so, k.h)
comp_kx() {
  local spec="pykx==$PYKX_VERSION:libe.so,k.h"
  if stamp_ok kx "$spec" && [[ -s "$TOOLS/kx/libe.so" && -s "$TOOLS/kx/k.h" ]]; then
    log kx "already present ($TOOLS/kx)"; return
  fi
  local tmp; tmp="$(mktemp -d)"
  if ! timeout "$STEP_TIMEOUT" "$PY" -m pip download -q --no-deps --only-binary=:all: \
    --dest "$tmp" "pykx==$PYKX_VERSION"; then
    rm -rf "$tmp"; echo "kx: pip download pykx==$PYKX_VERSION failed" >&2; exit 1
  fi
  mkdir -p "$TOOLS/kx"
  "$PY" - "$tmp" "$TOOLS/kx" <<'EOF' || { rm -rf "$tmp"; exit 1; }
import glob, os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(src, "pykx-*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one pykx wheel in {src}, found {wheels}")
want = {"pykx/lib/l64/libe.so": "libe.so", "pykx/include/k.h": "k.h"}
with zipfile.ZipFile(wheels[0]) as z:
    for member, name in want.items():
        data = z.read(member)  # KeyError if the wheel layout changed
        tmp = os.path.join(dst, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755 if name.endswith(".so") else 0o644)
        os.replace(tmp, os.path.join(dst, name))
EOF
  rm -rf "$tmp"
  stamp_set kx "$spec"
  log kx "installed ($TOOLS/kx/libe.so, k.h)"
}

# ---------------------------------------------------------------- python venv
comp_venv() {
  local spec; spec="$("$PY" -c 'import sys;print(sys.version.split()[0])') ${VENV_PKGS[*]}"
  if stamp_ok venv "$spec" && [[ -x "$TOOLS/venv/bin/python" ]]; then
    log venv "already present ($TOOLS/venv)"; return
  fi
  rm -rf "$TOOLS/venv"
  "$PY" -m venv "$TOOLS/venv"
  timeout "$STEP_TIMEOUT" "$TOOLS/venv/bin/python" -m pip install -q "${VENV_PKGS[@]}"
  "$TOOLS/venv/bin/python" -m pip check >/dev/null
  stamp_set venv "$spec"
  log venv "installed ($TOOLS/venv: ${VENV_PKGS[*]})"
}

# ---------------------------------------------------------------- npm: azcopy + azurite
AZCOPY_BIN="$TOOLS/npm/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
comp_npm() {
  local spec="${NPM_PKGS[*]}"
  if stamp_ok npm "$spec" && [[ -x "$AZCOPY_BIN" && -e "$TOOLS/npm/node_modules/.bin/azurite-blob" ]]; then
    log npm "already present ($TOOLS/npm)"; return
  fi
  mkdir -p "$TOOLS/npm"
  timeout "$STEP_TIMEOUT" npm install --prefix "$TOOLS/npm" --no-save --silent \
    --no-audit --no-fund "${NPM_PKGS[@]}" >/dev/null
  chmod +x "$AZCOPY_BIN"
  stamp_set npm "$spec"
  log npm "installed ($TOOLS/npm: $spec)"
}

# ---------------------------------------------------------------- Debian libsecret-1-0
comp_libsecret() {
  if dpkg -s libsecret-1-0 >/dev/null 2>&1; then
    log libsecret "already present (libsecret-1-0)"; return
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "libsecret-1-0 missing and not root" >&2; exit 1; }
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  timeout "$STEP_TIMEOUT" "${sudo[@]}" apt-get update -qq
  timeout "$STEP_TIMEOUT" "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    libsecret-1-0 >/dev/null
  log libsecret "installed (libsecret-1-0)"
}

# ---------------------------------------------------------------- TLS cert for 127.0.0.1
comp_tls() {
  local spec="rsa2048 CN=127.0.0.1 SAN=IP:127.0.0.1 v1"
  local d="$TOOLS/tls"
  if stamp_ok tls "$spec" && [[ -s "$d/cert.pem" && -s "$d/key.pem" ]] &&
     openssl x509 -in "$d/cert.pem" -noout -checkend 86400 >/dev/null; then
    log tls "already present ($d/cert.pem)"; return
  fi
  mkdir -p "$d"; chmod 700 "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout "$d/key.pem.tmp" -out "$d/cert.pem.tmp" -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
  chmod 600 "$d/key.pem.tmp"
  mv "$d/key.pem.tmp" "$d/key.pem"; mv "$d/cert.pem.tmp" "$d/cert.pem"
  stamp_set tls "$spec"
  log tls "installed ($d/cert.pem, key.pem)"
}

# ---------------------------------------------------------------- stable bin paths
comp_bin() {
  local -A links=(
    [aws]=../venv/bin/aws
    [gsutil]=../venv/bin/gsutil
    [moto_server]=../venv/bin/moto_server
    [qls]=../venv/bin/qls
    [azcopy]=../npm/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
    [azurite]=../npm/node_modules/.bin/azurite
    [azurite-blob]=../npm/node_modules/.bin/azurite-blob
  )
  local name changed=0
  for name in "${!links[@]}"; do
    if [[ "$(readlink "$TOOLS/bin/$name" 2>/dev/null)" != "${links[$name]}" ]]; then
      ln -sfn "${links[$name]}" "$TOOLS/bin/$name"; changed=1
    fi
    [[ -x "$TOOLS/bin/$name" ]] || { echo "bin: $TOOLS/bin/$name is not executable" >&2; exit 1; }
  done
  # python: a wrapper, not a symlink (a symlinked venv python would not find pyvenv.cfg)
  local pyw='#!/bin/sh
exec "$(dirname "$(readlink -f "$0")")/../venv/bin/python" "$@"'
  if [[ -L "$TOOLS/bin/python" || "$(cat "$TOOLS/bin/python" 2>/dev/null)" != "$pyw" ]]; then
    rm -f "$TOOLS/bin/python"; printf '%s\n' "$pyw" >"$TOOLS/bin/python"
    chmod +x "$TOOLS/bin/python"; changed=1
  fi
  if ((changed)); then log bin "installed ($TOOLS/bin: ${!links[*]})"
  else log bin "already present ($TOOLS/bin)"; fi
}

# With arguments, only the named components (e.g. `kx` for the demo); else all of them.
if (($#)); then
  for c in "$@"; do
    case "$c" in
      kx | venv | npm | libsecret | tls | bin) "comp_$c" ;;
      *) echo "test-env.sh: unknown component $c (kx venv npm libsecret tls bin)" >&2; exit 2 ;;
    esac
  done
else
  comp_kx
  comp_venv
  comp_npm
  comp_libsecret
  comp_tls
  comp_bin
fi
ms=$(( ($(date +%s%N) - START_NS) / 1000000 ))
printf '%-10s %d.%03ds\n' total $((ms / 1000)) $((ms % 1000))
