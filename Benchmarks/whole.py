#!/usr/bin/env python3
"""Whole process, in one run: load accounts and orders and print the top 20 accounts by
revenue, as an analyst would run it, with its wall time and peak memory, each three times:

  kam, first run          kam run top.kam on the CSV files, an empty snapshot cache
  kam, repeated run       the same again: kam reads the snapshot the first run left
  DuckDB CLI              duckdb :memory:, read_csv, the query; default threads and 1 thread
  DuckDB CLI, its file    the query on a DuckDB database file made beforehand (repeated runs)
  pandas, polars          read_csv, group, top 20
  kam and the DuckDB CLI  the same tables as JSON lines (kam's typed JSON reader, read_json)

Ratios: kam's first run against the DuckDB CLI on the CSV files at its default threads,
kam's repeated run against the DuckDB CLI on its own file.

usage: whole.py --data DIR --kam PATH --duckdb CLI [--python PATH]"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import SQL  # the definition of the top task


def measure(cmd, env=None, repeat=3, before=None):
    """Median wall seconds and the largest peak RSS (MB) of `repeat` runs of a command."""
    walls, peaks = [], []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        if status != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr.read().decode()}")
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(walls), max(peaks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--kam", required=True)
    ap.add_argument("--duckdb", required=True)
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args()
    data = os.path.abspath(a.data)
    work = tempfile.mkdtemp(prefix="kam-whole-")
    cache = os.path.join(work, "cache")
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    top = os.path.join(HERE, "top.kam")
    load = "".join(f"CREATE TABLE {n} AS SELECT * FROM read_csv('{data}/{n}.csv');" for n in ("accounts", "orders"))
    query = SQL["top"].strip() + ";"
    db = os.path.join(work, "bench.duckdb")
    subprocess.run([a.duckdb, db, "-c", load], check=True, capture_output=True)
    pandas = f"""import pandas as pd
acc = pd.read_csv('{data}/accounts.csv'); o = pd.read_csv('{data}/orders.csv', usecols=['account_id', 'amount'])
r = o.groupby('account_id')['amount'].sum().nlargest(20).rename('rev').reset_index().merge(acc, left_on='account_id', right_on='id')
print(r[['name', 'rev']].to_csv(index=False))"""
    polars = f"""import polars as pl
acc = pl.read_csv('{data}/accounts.csv'); o = pl.read_csv('{data}/orders.csv', columns=['account_id', 'amount'])
r = o.group_by('account_id').agg(pl.col('amount').sum().alias('rev')).top_k(20, by='rev').join(acc, left_on='account_id', right_on='id')
print(r.select(['name', 'rev']).write_csv())"""
    rows = []
    rows.append(("kam, first run (CSV, writes the snapshot)",
                 measure([a.kam, "run", top, "--data", data, "--quiet"], env=env, before=lambda: shutil.rmtree(cache, ignore_errors=True))))
    measure([a.kam, "run", top, "--data", data, "--quiet"], env=env, repeat=1)
    rows.append(("kam, repeated run (the snapshot)", measure([a.kam, "run", top, "--data", data, "--quiet"], env=env)))
    rows.append(("DuckDB CLI, CSV, default threads", measure([a.duckdb, ":memory:", "-c", load + query])))
    rows.append(("DuckDB CLI, CSV, 1 thread", measure([a.duckdb, ":memory:", "-c", "SET threads = 1;" + load + query])))
    rows.append(("DuckDB CLI, its database file", measure([a.duckdb, "-readonly", db, "-c", query])))
    for name, code, module in (("pandas", pandas, "pandas"), ("polars", polars, "polars")):
        if subprocess.run([a.python, "-c", f"import {module}"], capture_output=True).returncode == 0:
            rows.append((name + ", CSV", measure([a.python, "-c", code])))
    # The same tables as JSON lines, as a CRM's API export gives them: kam's typed JSON
    # reader against DuckDB's read_json.
    jdir = os.path.join(work, "jsonl")
    os.makedirs(jdir)
    subprocess.run([a.duckdb, ":memory:", "-c", "".join(
        f"COPY (SELECT * FROM read_csv('{data}/{n}.csv')) TO '{jdir}/{n}.jsonl' (FORMAT JSON);" for n in ("accounts", "orders"))],
        check=True, capture_output=True)
    jload = "".join(f"CREATE TABLE {n} AS SELECT * FROM read_json('{jdir}/{n}.jsonl');" for n in ("accounts", "orders"))
    rows.append(("kam, first run (JSONL)",
                 measure([a.kam, "run", top, "--data", jdir, "--quiet"], env=env, before=lambda: shutil.rmtree(cache, ignore_errors=True))))
    rows.append(("DuckDB CLI, JSONL, default threads", measure([a.duckdb, ":memory:", "-c", jload + query])))
    shutil.rmtree(work, ignore_errors=True)
    figures = dict(rows)
    print("whole process: load accounts and orders, print the top 20 by revenue (median of 3 wall, peak memory)")
    for name, (wall, mb) in rows:
        print(f"  {name:44} {wall:7.3f} s {mb:8.0f} MB")
    first, duck = figures["kam, first run (CSV, writes the snapshot)"], figures["DuckDB CLI, CSV, default threads"]
    again, file = figures["kam, repeated run (the snapshot)"], figures["DuckDB CLI, its database file"]
    print(f"  kam first run / DuckDB CLI on the CSV files: {first[0] / duck[0]:.2f} time, {first[1] / duck[1]:.2f} memory")
    print(f"  kam repeated run / DuckDB CLI on its file:   {again[0] / file[0]:.2f} time, {again[1] / file[1]:.2f} memory")
    jfirst, jduck = figures["kam, first run (JSONL)"], figures["DuckDB CLI, JSONL, default threads"]
    print(f"  kam first run / DuckDB CLI on the JSONL files: {jfirst[0] / jduck[0]:.2f} time, {jfirst[1] / jduck[1]:.2f} memory")


if __name__ == "__main__":
    main()
