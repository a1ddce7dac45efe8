#!/usr/bin/env bash
# Installs the PyTorch peer of `distill bench`: Debian's python3-torch with the OpenMP build of OpenBLAS.
# Without libopenblas0-openmp, Debian's PyTorch links the reference BLAS (a 2048x2048 matmul takes seconds instead of
# milliseconds), which would make the comparison meaningless; this script refuses to finish without it.
# Needs root (or sudo) and apt. Never run by the unit tests or CI.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v apt-get >/dev/null; then
  echo "bench/setup.sh: apt-get not found; install python3-torch and libopenblas0-openmp with your package manager." >&2
  exit 2
fi

need=()
for pkg in python3-torch libopenblas0-openmp; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if ! apt-cache policy python3-torch | grep -q 'Candidate: [0-9]'; then $SUDO apt-get update; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi

# Check: the BLAS alternative must point at OpenBLAS (OpenMP), and a 1024^2 matmul must be fast.
/usr/bin/python3 - <<'PY'
import sys, time, torch
torch.set_num_threads(2)
a = torch.randn(1024, 1024)
a @ a
t = time.perf_counter(); a @ a; dt = time.perf_counter() - t
print(f"python3-torch {torch.__version__}; 1024x1024 matmul {dt*1000:.1f} ms on 2 threads")
if dt > 0.5:
    sys.exit("bench/setup.sh: matmul is far too slow: PyTorch is not using OpenBLAS. "
             "Run: update-alternatives --config libblas.so.3-x86_64-linux-gnu and pick openblas-openmp.")
PY
