# Sourced by bin/studio and bin/test: a local virtual environment with everything installed.
# Re-running is cheap: each step is skipped when its inputs have not changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)

if [ ! -x "$PY" ]; then
  echo "abacus: creating the virtual environment in .venv" >&2
  python3 -m venv "$VENV"
fi
if ! "$PY" -c "import torch, torchvision" 2>/dev/null; then
  echo "abacus: installing ${TORCH_PINS[*]}" >&2
  "$PY" -m pip install -q "${TORCH_PINS[@]}"
fi
# Keep whatever torch is installed (2.14.1 here, the GPU machines' own elsewhere): no dependency may replace it.
CONSTRAINTS="$VENV/abacus-constraints.txt"
"$PY" -c "import torch, torchvision; print(f'torch=={torch.__version__.split(\"+\")[0]}'); print(f'torchvision=={torchvision.__version__.split(\"+\")[0]}')" > "$CONSTRAINTS"
STAMP="$VENV/.abacus-installed"
WANT="$(cat pyproject.toml "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "abacus: installing the project and its dependencies" >&2
  "$PY" -m pip install -q -c "$CONSTRAINTS" -e ".[test,mlflow]"
  echo "$WANT" > "$STAMP"
fi

apt_install() {  # apt_install CHECK_PATH PACKAGE...: Debian packages, once
  local check="$1"; shift
  if [ ! -e "$check" ]; then
    echo "abacus: installing Debian packages: $*" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
  fi
}

build_frontend() {  # npm ci when the lock file changed, vite build when a source is newer than the build
  command -v npm >/dev/null || { echo "abacus: Node.js 20 and npm are needed to build the editor" >&2; return 1; }
  local lock_stamp="frontend/node_modules/.abacus-lock"
  local want; want="$(sha256sum frontend/package-lock.json | cut -d' ' -f1)"
  if [ ! -f "$lock_stamp" ] || [ "$(cat "$lock_stamp")" != "$want" ]; then
    echo "abacus: installing the editor's packages (npm ci)" >&2
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$lock_stamp"
  fi
  if [ ! -f frontend/dist/index.html ] || \
     [ -n "$(find frontend/src frontend/index.html frontend/package.json frontend/vite.config.ts -newer frontend/dist/index.html 2>/dev/null | head -n1)" ]; then
    echo "abacus: building the editor" >&2
    (cd frontend && npm run build --silent)
  fi
}
