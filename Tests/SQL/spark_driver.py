"""Runs kam's compiled Spark SQL for the conformance tests, in one local Spark session.

    python spark_driver.py DATA_DIR QUERIES_FILE

DATA_DIR holds one NAME.jsonl per entity and NAME.ddl with its Spark schema; each becomes
a temporary view. QUERIES_FILE holds the queries, separated by lines reading "-- next".
For each query the driver prints one line: a JSON array of the rows (nulls kept), or
{"error": "..."} when Spark refused it.
"""
import json
import os
import sys

from pyspark.sql import SparkSession


def main():
    data_dir, queries_file = sys.argv[1], sys.argv[2]
    spark = (SparkSession.builder.master("local[2]").appName("kam-conformance")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.jsonGenerator.ignoreNullFields", "false")
             # Temporary views only: no warehouse directory where the tests run.
             .config("spark.sql.warehouse.dir", os.path.join(data_dir, "warehouse"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for name in sorted(os.listdir(data_dir)):
        if not name.endswith(".ddl"):
            continue
        entity = name[:-4]
        with open(os.path.join(data_dir, name)) as f:
            ddl = f.read().strip()
        df = spark.read.schema(ddl).option("dateFormat", "yyyy-MM-dd").json(os.path.join(data_dir, entity + ".jsonl"))
        df.createOrReplaceTempView(entity)
    with open(queries_file) as f:
        queries = [q.strip() for q in f.read().split("\n-- next\n") if q.strip()]
    out = sys.stdout
    for q in queries:
        try:
            rows = [json.loads(r) for r in spark.sql(q.rstrip(";")).toJSON().collect()]
            out.write(json.dumps(rows) + "\n")
        except Exception as e:  # the test reports Spark's message with the query
            out.write(json.dumps({"error": str(e).split("\n")[0]}) + "\n")
        out.flush()
    spark.stop()


if __name__ == "__main__":
    main()
