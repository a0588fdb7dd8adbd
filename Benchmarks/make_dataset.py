#!/usr/bin/env python3
"""Generates TPC-H at scale factor SF with DuckDB's tpch extension and writes it as a kam
dataset: accounts.csv (customers), products.csv (parts), orders.csv (one row per line item).
The mapping is the benchmark's definition; keep it in step with the peers' SQL in harness.py.
usage: make_dataset.py SF OUTDIR"""
import glob, os, sys, time
import duckdb

sf, out = float(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
c = duckdb.connect()
ext = glob.glob(os.path.join(os.path.dirname(duckdb.__file__), "..", "duckdb_ext", "extensions", "*", "*", "tpch.duckdb_extension"))
c.sql(f"install '{ext[0]}'" if ext else "install tpch")
c.sql("load tpch")
t = time.time()
c.sql(f"call dbgen(sf={sf})")
c.sql(f"""copy (select c_custkey as id, c_name as name, c_mktsegment as industry, r_name as region, n_name as country,
        'E' || lpad(cast(c_custkey % 97 as varchar), 3, '0') as owner_id, c_acctbal as balance
        from customer join nation on c_nationkey=n_nationkey join region on n_regionkey=r_regionkey order by c_custkey)
        to '{out}/accounts.csv' (header)""")
c.sql(f"""copy (select p_partkey as id, p_name as name, p_type as category, p_brand as family, p_retailprice as list_price
        from part order by p_partkey) to '{out}/products.csv' (header)""")
c.sql(f"""copy (select l_orderkey*8 + l_linenumber as id, o_custkey as account_id, l_partkey as product_id, o_orderdate as date,
        cast(l_quantity as integer) as quantity, round(l_extendedprice / l_quantity, 2) as unit_price, l_discount as discount,
        round(l_extendedprice * (1 - l_discount), 2) as amount
        from lineitem join orders on l_orderkey=o_orderkey order by l_orderkey, l_linenumber) to '{out}/orders.csv' (header)""")
print(f"sf={sf} written to {out} in {time.time()-t:.1f}s", file=sys.stderr)
