#!/usr/bin/env python3
"""Runs the benchmark tasks in kam, DuckDB (1 thread and all threads), pandas and polars on one
dataset, in one run; checks kam's answers against DuckDB's; prints seconds per task per
engine, the kam / DuckDB-1-thread ratio, and peak memory.

usage: harness.py --data DIR --kam PATH [--engines kam,duckdb1,duckdbN,cli1,cliN,pandas,polars] [--skip-xsell]
       harness.py --peer ENGINE --data DIR     (one peer, in its own process; prints JSON lines)

The SQL below is the definition of each task (the same as the benchmark anchors)."""
import argparse, json, math, os, resource, subprocess, sys, time

SQL = {
    "top": """select a.name, sum(o.amount) rev from orders o join accounts a on a.id=o.account_id
              group by a.name order by rev desc limit 20""",
    "abc": """with r as (select account_id, sum(amount) rev from orders group by 1),
              c as (select rev, (sum(rev) over (order by rev desc rows unbounded preceding) - rev) / sum(rev) over () lo from r)
              select case when lo < 0.8 then 'A' when lo < 0.95 then 'B' else 'C' end cls, count(*), sum(rev)
              from c group by 1 order by 1""",
    "score": """with f as (select account_id, sum(amount) rev, count(*) n, count(distinct product_id) np,
                     date '1998-08-03' - max(date) rec from orders group by 1),
              m as (select min(rev) r0, max(rev) r1, min(n) n0, max(n) n1, min(np) p0, max(np) p1, min(rec) e0, max(rec) e1 from f)
              select account_id, 0.5*(rev-r0)/(r1-r0) + 0.2*(n-n0)/(n1-n0) + 0.2*(np-p0)/(p1-p0) + 0.1*(e1-rec)/(e1-e0) s
              from f, m order by s desc, account_id limit 20""",
    "hhi": """with r as (select account_id, sum(amount) rev from orders group by 1), t as (select sum(rev) tot from r)
              select sum((rev/tot)*(rev/tot))*10000 hhi, (select sum(rev) from (select rev from r order by rev desc limit 10))/tot top10
              from r, t group by tot""",
    "xsell": """with ac as (select distinct o.account_id, p.category from orders o join products p on p.id=o.product_id),
              co as (select x.category a, y.category b, count(*) n from ac x join ac y on x.account_id=y.account_id and x.category<>y.category group by 1,2),
              sup as (select category, count(*) n from ac group by 1),
              cand as (select ac.account_id, co.b cat, sum(co.n / sup.n) s from ac join co on co.a=ac.category join sup on sup.category=ac.category
                       where not exists (select 1 from ac z where z.account_id=ac.account_id and z.category=co.b) group by 1,2)
              select account_id, cat, s from (select *, row_number() over (partition by account_id order by s desc, cat) rk from cand) where rk<=3
              order by account_id, rk limit 30""",
}
TASKS = ["load", "top", "abc", "score", "hhi", "xsell"]
HERE = os.path.dirname(os.path.abspath(__file__))


def peer(engine, data, tasks):
    """One peer engine in this process: prints {"task", "seconds", "rows"} lines, then peak RSS."""
    def emit(task, secs, rows=None):
        print(json.dumps({"task": task, "seconds": secs, "rows": rows}), flush=True)
    if engine.startswith("duckdb"):
        import duckdb
        c = duckdb.connect()
        c.sql("set enable_progress_bar=false")
        c.sql(f"set threads={1 if engine == 'duckdb1' else os.cpu_count()}")
        t = time.perf_counter()
        for n in ("accounts", "products", "orders"):
            c.sql(f"create table {n} as select * from read_csv('{data}/{n}.csv')")
        emit("load", time.perf_counter() - t)
        for k in tasks:
            if k == "load":
                continue
            t = time.perf_counter()
            rows = c.sql(SQL[k]).fetchall()
            emit(k, time.perf_counter() - t, [[str(x) if not isinstance(x, (int, float)) else x for x in r] for r in rows])
    elif engine == "polars":
        import datetime, polars as pl
        t = time.perf_counter()
        acc = pl.read_csv(f"{data}/accounts.csv"); prod = pl.read_csv(f"{data}/products.csv")
        o = pl.read_csv(f"{data}/orders.csv", try_parse_dates=True)
        emit("load", time.perf_counter() - t)
        rev = lambda: o.group_by("account_id").agg(pl.col("amount").sum().alias("rev"))
        for k in tasks:
            t = time.perf_counter()
            if k == "top":
                rev().top_k(20, by="rev").join(acc, left_on="account_id", right_on="id").select("name", "rev")
            elif k == "abc":
                r = rev().sort("rev", descending=True)
                lo = (pl.col("rev").cum_sum() - pl.col("rev")) / pl.col("rev").sum()
                cls = pl.when(lo < 0.8).then(pl.lit("A")).when(lo < 0.95).then(pl.lit("B")).otherwise(pl.lit("C"))
                r.with_columns(cls.alias("cls")).group_by("cls").agg(pl.len(), pl.col("rev").sum())
            elif k == "score":
                f = o.group_by("account_id").agg(pl.col("amount").sum().alias("rev"), pl.len().alias("n"), pl.col("product_id").n_unique().alias("np"),
                                                 (pl.lit(datetime.date(1998, 8, 3)) - pl.col("date").max()).dt.total_days().alias("rec"))
                mm = lambda c: (pl.col(c) - pl.col(c).min()) / (pl.col(c).max() - pl.col(c).min())
                f.with_columns((0.5 * mm("rev") + 0.2 * mm("n") + 0.2 * mm("np") + 0.1 * (1 - mm("rec"))).alias("s")).top_k(20, by="s")
            elif k == "hhi":
                r = rev(); total = r["rev"].sum(); ((r["rev"] / total) ** 2).sum() * 10000; r["rev"].top_k(10).sum() / total
            elif k == "xsell":
                ac = o.select("account_id", "product_id").join(prod.select("id", "category"), left_on="product_id", right_on="id").select("account_id", "category").unique()
                # As pandas does it: an account x category matrix, co-occurrence by a product.
                import numpy as np
                ix = ac.select((pl.col("account_id").rank("dense") - 1).alias("a"), (pl.col("category").rank("dense") - 1).alias("c"))
                m = np.zeros((ix["a"].max() + 1, ix["c"].max() + 1)); m[ix["a"].to_numpy(), ix["c"].to_numpy()] = 1
                co = m.T @ m; np.fill_diagonal(co, 0); w = co / m.sum(axis=0)[:, None]
                scores = m @ w; scores[m > 0] = -1; np.argsort(-scores, axis=1)[:, :3]
            else:
                continue
            emit(k, time.perf_counter() - t)
    else:
        import numpy as np, pandas as pd
        t = time.perf_counter()
        acc = pd.read_csv(f"{data}/accounts.csv"); prod = pd.read_csv(f"{data}/products.csv")
        o = pd.read_csv(f"{data}/orders.csv", parse_dates=["date"])
        emit("load", time.perf_counter() - t)
        for k in tasks:
            t = time.perf_counter()
            if k == "top":
                o.groupby("account_id")["amount"].sum().nlargest(20).rename("rev").reset_index().merge(acc, left_on="account_id", right_on="id")
            elif k == "abc":
                r = o.groupby("account_id")["amount"].sum().sort_values(ascending=False); start = (r.cumsum() - r) / r.sum()
                cls = pd.cut(start, [-1, 0.8, 0.95, 2], labels=list("ABC"), right=False); r.groupby(cls, observed=True).agg(["count", "sum"])
            elif k == "score":
                g = o.groupby("account_id"); f = pd.DataFrame({"rev": g["amount"].sum(), "n": g.size(), "np": g["product_id"].nunique(),
                    "rec": (pd.Timestamp("1998-08-03") - g["date"].max()).dt.days})
                mm = lambda s: (s - s.min()) / (s.max() - s.min())
                s = 0.5*mm(f.rev) + 0.2*mm(f.n) + 0.2*mm(f.np) + 0.1*(1 - mm(f.rec)); s.nlargest(20)
            elif k == "hhi":
                r = o.groupby("account_id")["amount"].sum(); sh = r / r.sum(); (sh**2).sum()*10000; r.nlargest(10).sum()/r.sum()
            elif k == "xsell":
                ac = o[["account_id", "product_id"]].merge(prod[["id", "category"]], left_on="product_id", right_on="id")[["account_id", "category"]].drop_duplicates()
                m = pd.crosstab(ac.account_id, ac.category).clip(upper=1); co = m.T @ m; sup = m.sum()
                cnp = co.to_numpy().astype(float); np.fill_diagonal(cnp, 0); w = cnp / sup.to_numpy()[:, None]
                scores = m.to_numpy() @ w; scores[m.to_numpy() > 0] = -1; np.argsort(-scores, axis=1)[:, :3]
            else:
                continue
            emit(k, time.perf_counter() - t)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def cli_peer(cli, threads, data, tasks):
    """The DuckDB CLI, the peer an analyst would pick, in its own process: the load and each
    task timed by its .timer; returns {task: seconds} (whole.py gives its memory)."""
    load = [f"CREATE TABLE {n} AS SELECT * FROM read_csv('{data}/{n}.csv');" for n in ("accounts", "products", "orders")]
    queries = [SQL[t].strip() + ";" for t in tasks if t != "load"]
    script = "".join(f"SET threads = {threads};\n" if threads else "") + ".timer on\n" + "\n".join(load + queries) + "\n"
    p = subprocess.Popen([cli, ":memory:"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(script)
    if p.returncode != 0:
        raise SystemExit(f"the DuckDB CLI failed:\n{err}")
    times = [float(x) for x in __import__("re").findall(r"Run Time \(s\): real ([0-9.]+)", out)]
    named = [t for t in tasks if t != "load"]
    result = {"load": sum(times[:3])}
    for t, secs in zip(named, times[3:]):
        result[t] = secs
    return result


def run_child(cmd):
    """Runs a command; returns (stdout, stderr, wall seconds, peak RSS in MB)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - t
    # communicate() reaped the child; its usage is in RUSAGE_CHILDREN only cumulatively, so
    # read the peak from the child's own report when it gives one (kam: /usr/bin/time style
    # not needed) - we use wait4 through a wrapper instead when available.
    return out, err, wall, p.returncode


def run_kam(kam, data, task):
    script = os.path.join(HERE, f"{task}.kam")
    # Parsed every time (no snapshot): the load and the tasks on data in memory, as before
    # snapshots; whole.py measures the repeated run that reads one. Every file is read
    # (KAM_READ_ALL), as the peers' load reads all three; whole.py lets kam read what the
    # script names, as DuckDB reads the two files its query names.
    cmd = [kam, "--data", data, "--quiet", "--timing", "--no-cache", "--format", "csv", "run", script]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, KAM_READ_ALL="1"))
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    out, err = p.stdout.read(), p.stderr.read()
    if status != 0:
        raise SystemExit(f"kam failed on {task}:\n{err}")
    load = sum(float(l.split()[-1].rstrip("s")) for l in err.splitlines() if l.startswith("timing: load total"))
    secs = sum(float(l.split()[-1].rstrip("s")) for l in err.splitlines() if l.startswith("timing: line "))
    return {"load": load, "seconds": secs, "wall": wall, "rss": usage.ru_maxrss / 1024, "csv": out}


def close(a, b, rel=1e-6):
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-6)


def check(task, kam_csv, duck_rows):
    lines = [l.split(",") for l in kam_csv.strip().splitlines()[1:]]
    if task == "top":
        return len(lines) == len(duck_rows) and all(l[0] == str(r[0]) and close(l[1], r[1]) for l, r in zip(lines, duck_rows))
    if task == "abc":
        return len(lines) == len(duck_rows) and all(l[0] == r[0] and int(l[1]) == r[1] and close(l[2], r[2]) for l, r in zip(lines, duck_rows))
    if task == "score":
        return len(lines) == len(duck_rows) and all(int(l[0]) == r[0] and close(l[1], r[1], 1e-9) for l, r in zip(lines, duck_rows))
    if task == "xsell":
        return len(lines) == len(duck_rows) and all(int(l[0]) == r[0] and l[1] == r[1] and close(l[2], r[2], 1e-9) for l, r in zip(lines, duck_rows))
    if task == "hhi":
        return len(lines) == 1 and close(lines[0][0], duck_rows[0][0]) and close(lines[0][1], duck_rows[0][1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--kam")
    ap.add_argument("--peer")
    ap.add_argument("--engines", default="kam,duckdb1,duckdbN,cli1,cliN,pandas,polars")
    ap.add_argument("--duckdb-cli", help="the DuckDB CLI, for the cli1 and cliN columns")
    ap.add_argument("--skip-xsell", action="store_true")
    a = ap.parse_args()
    kam_tasks = [t for t in TASKS if t != "load" and os.path.exists(os.path.join(HERE, f"{t}.kam"))]
    peer_tasks = [t for t in TASKS if not (t == "xsell" and (a.skip_xsell or "xsell" not in kam_tasks))]
    if a.peer:
        peer(a.peer, a.data, peer_tasks)
        return
    engines = a.engines.split(",")
    # polars is a peer where it is installed (scripts/bench installs it; the run goes on without).
    if "polars" in engines and subprocess.run([sys.executable, "-c", "import polars"], capture_output=True).returncode != 0:
        print("polars is not installed: its column is left out", file=sys.stderr)
        engines.remove("polars")
    results = {e: {} for e in engines}
    rows = {}
    peaks = {}
    for e in engines:
        if e in ("cliN", "cli1"):
            if not a.duckdb_cli:
                continue
            r = cli_peer(a.duckdb_cli, 1 if e == "cli1" else None, a.data, peer_tasks)
            results[e] = r
            print(f"{e} done", file=sys.stderr, flush=True)
            continue
        if e == "kam":
            for t in kam_tasks:
                r = run_kam(a.kam, a.data, t)
                results["kam"][t] = r["seconds"]
                results["kam"].setdefault("load", r["load"])
                results["kam"]["load"] = min(results["kam"]["load"], r["load"])
                peaks["kam"] = max(peaks.get("kam", 0), r["rss"])
                rows[t] = r["csv"]
                if t == "top":
                    results["kam"]["whole"] = r["wall"]
            print(f"kam done", file=sys.stderr, flush=True)
            continue
        p = subprocess.run([sys.executable, __file__, "--peer", e, "--data", a.data] + (["--skip-xsell"] if a.skip_xsell else []),
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            raise SystemExit(f"{e} failed")
        for line in p.stdout.splitlines():
            j = json.loads(line)
            if "peak_rss_mb" in j:
                peaks[e] = j["peak_rss_mb"]
            else:
                results[e][j["task"]] = j["seconds"]
                if e == "duckdb1" and j["rows"] is not None:
                    rows.setdefault("duck_" + j["task"], j["rows"])
        print(f"{e} done", file=sys.stderr, flush=True)
    # Whole process: kam run top.kam vs the same in a fresh DuckDB process (1 thread).
    if "duckdb1" in engines:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"""
import duckdb; c = duckdb.connect(); c.sql("set threads=1"); c.sql("set enable_progress_bar=false")
for n in ("accounts", "orders"): c.sql(f"create table {{n}} as select * from read_csv('{a.data}/{{n}}.csv')")
c.sql('''{SQL["top"]}''').fetchall()"""], check=True)
        results["duckdb1"]["whole"] = time.perf_counter() - t
    t = time.perf_counter()
    if "kam" in engines:
        for _ in range(5):
            subprocess.run([a.kam, "-c", "1 + 1"], capture_output=True, check=True)
        results["kam"]["1+1"] = (time.perf_counter() - t) / 5

    cols = [e for e in engines if results.get(e)]
    print(f"\n{'task':8}" + "".join(f"{e:>10}" for e in cols) + f"{'kam/duck1':>11}{'kam/cliN':>10}{'check':>8}")
    for t in TASKS + ["whole"]:
        line = f"{t:8}"
        for e in cols:
            v = results[e].get(t)
            line += f"{v:10.3f}" if v is not None else f"{'pending' if t == 'xsell' else '-':>10}"
        k, d = results.get("kam", {}).get(t), results.get("duckdb1", {}).get(t)
        line += f"{k / d:11.2f}" if k is not None and d else f"{'-':>11}"
        c = results.get("cliN", {}).get(t)
        line += f"{k / c:10.2f}" if k is not None and c else f"{'-':>10}"
        ok = check(t, rows[t], rows["duck_" + t]) if t in rows and ("duck_" + t) in rows else None
        line += f"{'ok' if ok else ('-' if ok is None else 'DIFFERS'):>8}"
        print(line)
    print(f"{'peak MB':8}" + "".join(f"{peaks[e]:10.0f}" if e in peaks else f"{'-':>10}" for e in cols))
    print("cli1, cliN: the DuckDB CLI (the peer an analyst would pick) on 1 thread and its default threads, each task timed by .timer")
    if "kam" in results and "1+1" in results["kam"]:
        print(f"kam -c '1 + 1': {results['kam']['1+1'] * 1000:.1f} ms wall")
    print("whole = kam run top.kam (load accounts, orders and products, print the top 20) vs a fresh DuckDB process, 1 thread, loading orders and accounts")
    bad = [t for t in TASKS if t in rows and ("duck_" + t) in rows and check(t, rows[t], rows["duck_" + t]) is False]
    if bad:
        raise SystemExit(f"kam's answers differ from DuckDB's: {', '.join(bad)}")


if __name__ == "__main__":
    main()
