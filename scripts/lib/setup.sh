# Sourced by scripts/run and scripts/test: installs what a fresh Debian machine lacks.
ensure_system_packages() {
  local missing=()
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  if ! pkg-config --exists libedit 2>/dev/null; then missing+=(libedit-dev); fi
  if ! pkg-config --exists sqlite3 2>/dev/null; then missing+=(libsqlite3-dev); fi
  if ! pkg-config --exists libpq 2>/dev/null; then missing+=(libpq-dev); fi
  if ((${#missing[@]})); then
    echo "kam: installing ${missing[*]} ..." >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
  fi
  command -v swift >/dev/null 2>&1 || { echo "kam: swift is not on PATH (Swift 6 is needed)" >&2; exit 1; }
}

# The DuckDB CLI (PyPI's duckdb-cli) for the SQL conformance tests, in a venv of its own;
# exports KAM_DUCKDB. Without network it says so, and the DuckDB conformance test skips.
ensure_duckdb_cli() {
  local venv="$root/.engines/venv"
  if [ ! -x "$venv/bin/duckdb" ]; then
    echo "kam: installing the DuckDB CLI (duckdb-cli 1.5) for the SQL conformance tests ..." >&2
    if ! { python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q "duckdb-cli==1.5.*" >&2; }; then
      echo "kam: could not install duckdb-cli; the DuckDB conformance test will skip" >&2
      return 0
    fi
  fi
  export KAM_DUCKDB="$venv/bin/duckdb"
}

# Chromium (Debian's chromium package) for the test that draws the HTML report headless.
# Without it (no network, no root) it says so, and that test skips.
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  echo "kam: installing chromium for the HTML report's screenshot test ..." >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! { $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2; }; then
    echo "kam: could not install chromium; the screenshot test will skip" >&2
  fi
  return 0
}

# Spark SQL for the conformance tests: pyspark from PyPI in the same venv, Java from
# Debian (openjdk-17-jre-headless) when missing; exports KAM_SPARK_PYTHON.
ensure_spark() {
  local venv="$root/.engines/venv"
  if ! command -v java >/dev/null 2>&1; then
    echo "kam: installing Java (openjdk-17-jre-headless) for Spark ..." >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless >&2
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  if ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
    echo "kam: installing pyspark 4 for the Spark SQL conformance tests ..." >&2
    "$venv/bin/pip" install -q "pyspark==4.*" >&2
  fi
  export KAM_SPARK_PYTHON="$venv/bin/python"
}

# Spark only when it is already there (scripts/test-engines installs it).
spark_if_installed() {
  local venv="$root/.engines/venv"
  if command -v java >/dev/null 2>&1 && [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
    export KAM_SPARK_PYTHON="$venv/bin/python"
  fi
}

# The benchmark's TPC-H dataset at a small scale (SF 0.01: 1,500 accounts, 60,175 order
# lines), made by Benchmarks/make_dataset.py with DuckDB's tpch extension from PyPI, for the
# TPC-H-shaped conformance queries; exports KAM_TPCH_DATA.
ensure_tpch_small() {
  local venv="$root/.engines/venv" dir="$root/.engines/tpch-sf0.01"
  if [ ! -f "$dir/orders.csv" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
    if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
      echo "kam: installing duckdb and its tpch extension to make the TPC-H dataset ..." >&2
      "$venv/bin/pip" install -q duckdb duckdb-ext-tpch >&2 || { echo "kam: could not install duckdb; the TPC-H dataset test will skip" >&2; return 0; }
    fi
    "$venv/bin/python" "$root/Benchmarks/make_dataset.py" 0.01 "$dir" >&2 || return 0
  fi
  export KAM_TPCH_DATA="$dir"
}

# The small TPC-H dataset only when it is already there.
tpch_if_made() {
  [ -f "$root/.engines/tpch-sf0.01/orders.csv" ] && export KAM_TPCH_DATA="$root/.engines/tpch-sf0.01"
  return 0
}
