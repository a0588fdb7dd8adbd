# Sourced by scripts/run and scripts/test: installs what a fresh Debian machine lacks.
ensure_system_packages() {
  local missing=()
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if ! pkg-config --exists libedit 2>/dev/null; then missing+=(libedit-dev); fi
  if ! pkg-config --exists sqlite3 2>/dev/null; then missing+=(libsqlite3-dev); fi
  if ((${#missing[@]})); then
    echo "kam: installing ${missing[*]} ..." >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
  fi
  command -v swift >/dev/null 2>&1 || { echo "kam: swift is not on PATH (Swift 6 is needed)" >&2; exit 1; }
}
