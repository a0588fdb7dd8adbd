#!/usr/bin/env python3
"""The demo company at scale, in one run (default a million accounts):

  1. `kam demo --accounts N`: wall time and peak memory of writing the CSV files;
  2. every analytics stage of Benchmarks/stages.kam in kam, in memory: each statement's
     time from --timing, the data parsed once (--no-cache), and again through the snapshot
     (a repeated run, each statement its own process, columns read when first used);
  3. the same statements on DuckDB (its CLI, a database file of the same CSV files): the SQL
     `kam sql` makes of each statement that has a SQL form, the engine's own time (.timer,
     median of 3 after a warm-up), and kam's answer on DuckDB checked against kam's in memory.

usage: stages.py --kam PATH --duckdb CLI [--accounts N] [--work DIR]
Prints a table and writes the figures as JSON to DIR/stages.json."""
import argparse, json, math, os, re, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TODAY = "2026-11-02"
TABLES = ["accounts", "contacts", "employees", "relationships", "products", "orders", "opportunities", "surveys",
          "invoices", "contracts", "interactions"]


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r


def measured(cmd, env=None):
    """Wall seconds and peak RSS (MB) of one run of a command; its stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        o, e = out.read().decode(), err.read().decode()
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{e}")
    return wall, usage.ru_maxrss / 1024, o, e


def line_times(stderr):
    """{line: seconds} from kam's --timing."""
    return {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"timing: line (\d+) ([0-9.]+)s", stderr)}


def same(a, b):
    """Two CSV texts equal, numbers to 1e-9 relative (the engines sum in another order)."""
    la, lb = a.strip().splitlines(), b.strip().splitlines()
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        for u, v in zip(x.split(","), y.split(",")):
            if u == v:
                continue
            try:
                fu, fv = float(u), float(v)
            except ValueError:
                return False
            if not math.isclose(fu, fv, rel_tol=1e-9, abs_tol=1e-9):
                return False
        if x.count(",") != y.count(","):
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kam", required=True)
    ap.add_argument("--duckdb", required=True)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--work", default=os.path.join(HERE, "..", ".bench", "stages"))
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    data = os.path.join(work, f"demo{a.accounts}")
    db = data + ".duckdb"
    cache = os.path.join(work, "cache")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, XDG_CACHE_HOME=cache, KAM_DUCKDB=a.duckdb)
    figures = {"accounts": a.accounts}

    # 1. Generating the company.
    shutil.rmtree(data, ignore_errors=True)
    wall, mb, _, err = measured([a.kam, "demo", "--accounts", str(a.accounts), "--out", data])
    figures["demo"] = {"seconds": wall, "peak_mb": mb, "bytes": sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data))}
    print(err.strip(), file=sys.stderr)

    # The same files in a DuckDB database file.
    if os.path.exists(db):
        os.remove(db)
    t = time.perf_counter()
    run([a.duckdb, db], input="".join(f"CREATE TABLE {n} AS SELECT * FROM read_csv('{data}/{n}.csv');\n" for n in TABLES))
    figures["duckdb_load"] = time.perf_counter() - t

    # The statements, each also alone in a script of its own.
    script = os.path.join(HERE, "stages.kam")
    lines = open(script).read().splitlines()
    # A statement starts at a line that is not indented (kam fmt puts each stage of a long
    # pipeline on a line of its own, indented); it is numbered by its first line.
    stages = []
    for n, text in enumerate(lines):
        if not text.strip() or text.startswith("#"):
            continue
        if text[0].isspace() and stages:
            stages[-1] = (stages[-1][0], stages[-1][1] + "\n" + text)
        else:
            stages.append((n + 1, text))
    alone = {}
    for n, text in stages:
        alone[n] = os.path.join(work, f"stage{n}.kam")
        with open(alone[n], "w") as f:
            f.write(text + "\n")

    # 2. kam in memory: parsed once, then each statement through the snapshot.
    shutil.rmtree(cache, ignore_errors=True)
    common = ["--data", data, "--today", TODAY, "--timing", "--format", "csv"]
    wall, mb, _, err = measured([a.kam, *common, "--no-cache", "run", script], env=env)
    parsed = line_times(err)
    load = re.search(r"timing: load total ([0-9.]+)s", err)
    figures["kam_parse_run"] = {"seconds": wall, "peak_mb": mb, "load": float(load.group(1)) if load else None}
    measured([a.kam, *common, "-c", "accounts | count"], env=dict(env, KAM_READ_ALL="1"))  # writes the snapshot of every entity
    rows = []
    for n, text in stages:
        verb = [v for v in re.findall(r"\| (\w+)", text) if v not in ("select", "where", "aggregate", "derive")]
        stage = verb[-1] if verb else text.split("|")[1].strip()
        w, m, answer, e = measured([a.kam, *common, "run", alone[n]], env=env)
        # --timing names a statement by its first line (kam before 2026-12-03 by a pipeline's
        # last stage's): the figure is looked for on any line of it.
        span = range(n, n + text.count("\n") + 1)
        at = lambda times, first: next((times[k] for k in range(first, first + len(span)) if k in times), None)
        snap = at(line_times(e), 1)
        row = {"line": n, "stage": stage, "kam": at(parsed, n), "kam_snapshot": snap, "kam_snapshot_process": w, "kam_snapshot_mb": m}
        # 3. DuckDB, where the statement has a SQL form.
        sql = run([a.kam, "sql", alone[n], "--data", f"duckdb:{db}", "--dialect", "duckdb", "--today", TODAY], check=False, env=env)
        if sql.returncode == 0 and sql.stdout.strip():
            q = sql.stdout.strip().rstrip(";") + ";"
            out = run([a.duckdb, "-readonly", db], input=".timer on\n" + (q + "\n") * 4).stdout
            times = [float(x) for x in re.findall(r"Run Time \(s\): real ([0-9.]+)", out)]
            row["duckdb"] = statistics.median(times[1:]) if len(times) >= 4 else None
            on_db = run([a.kam, "--data", f"duckdb:{db}", "--today", TODAY, "--format", "csv", "run", alone[n]], env=env).stdout
            row["answers_equal"] = same(answer, on_db)
        rows.append(row)
    figures["stages"] = rows
    with open(os.path.join(work, "stages.json"), "w") as f:
        json.dump(figures, f, indent=1)

    d = figures["demo"]
    print(f"kam demo --accounts {a.accounts}: {d['seconds']:.2f} s, peak {d['peak_mb']:.0f} MB, {d['bytes'] / 1e9:.2f} GB of CSV"
          f" (goal: under 10 s and 1 GB)")
    p = figures["kam_parse_run"]
    print(f"kam, every statement in one run, parsing the CSV files: {p['seconds']:.1f} s, peak {p['peak_mb']:.0f} MB"
          f" (load {p['load']:.1f} s); DuckDB CLI loading the same files into its database file: {figures['duckdb_load']:.1f} s")
    print("seconds per statement: kam in memory (parsed), kam through the snapshot (the statement; its whole process),"
          " DuckDB on its file running kam's SQL (median of 3), kam / DuckDB, answers equal")
    print(f"  {'line':>4} {'stage':<14}{'kam':>9}{'snapshot':>10}{'process':>9}{'DuckDB':>9}{'ratio':>7}  equal")
    for r in rows:
        duck = r.get("duckdb")
        ratio = f"{r['kam'] / duck:7.2f}" if duck and r.get("kam") is not None else f"{'-':>7}"
        equal = {True: "yes", False: "NO"}.get(r.get("answers_equal"), "no SQL form")
        print(f"  {r['line']:>4} {r['stage']:<14}{r['kam'] or 0:9.3f}{r['kam_snapshot'] or 0:10.3f}{r['kam_snapshot_process']:9.2f}"
              f"{duck if duck else float('nan'):9.3f}{ratio}  {equal}")
    slower = [r["stage"] for r in rows if r.get("duckdb") and r.get("kam") and r["kam"] > r["duckdb"]]
    print("slower than DuckDB: " + (", ".join(slower) if slower else "none"))
    if any(r.get("answers_equal") is False for r in rows):
        sys.exit("kam's answer on DuckDB differs from kam's in memory")


if __name__ == "__main__":
    main()
