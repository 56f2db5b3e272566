"""Scores a customer dataset with a registered churn model on Spark: `churn score` on every partition.

    spark-submit Scripts/spark/score_churn.py --input customers.csv --output scores/ \
        --store commerceml.sqlite --binary .build/release/churn [--model churn] [--id customer_id] \
        [--partitions 4] [--reasons 3] [--format csv|parquet]

Each partition is piped header-less to `churn score - --columns COLUMNS --no-header` on an executor (mapInPandas);
the output has one row per customer: the id column, churn_probability, churn (0/1), decile and reasons, exactly as
`churn score` writes them for the whole file (rows in partition order). The input is CSV with a header, or Parquet;
every column is passed to churn as text, as churn reads a CSV.
"""

import argparse
import io

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

import commerceml_spark


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, help="customers: a CSV file/directory with a header, or Parquet")
    parser.add_argument("--output", required=True, help="the directory to write the scores to")
    parser.add_argument("--store", required=True, help="the model store: a SQLite file or a postgresql:// URL")
    parser.add_argument("--binary", required=True, help="the churn executable")
    parser.add_argument("--model", default="churn")
    parser.add_argument("--id", default="customer_id", help="the model's id column (default: customer_id)")
    parser.add_argument("--partitions", type=int, default=0, help="repartition the input first (0: keep)")
    parser.add_argument("--reasons", type=int, default=3)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()

    spark = SparkSession.builder.appName("commerceml-score-churn").getOrCreate()
    if args.input.endswith(".parquet"):
        customers = spark.read.parquet(args.input)
    else:
        customers = spark.read.option("header", True).option("inferSchema", False).csv(args.input)
    customers = customers.select([customers[c].cast("string").alias(c) for c in customers.columns])
    if args.id not in customers.columns:
        raise SystemExit(f"{args.input}: no '{args.id}' column (the model's id; give it with --id)")
    if args.partitions > 0:
        customers = customers.repartition(args.partitions)
    shipped = commerceml_spark.ship(spark, args.binary, args.store)
    columns = list(customers.columns)
    schema = StructType(
        [
            StructField(args.id, StringType()),
            StructField("churn_probability", StringType()),
            StructField("churn", IntegerType()),
            StructField("decile", IntegerType()),
            StructField("reasons", StringType()),
        ]
    )
    model, reasons = args.model, args.reasons

    def score(batches):
        binary, store = commerceml_spark.located(shipped)
        command = [binary, "score", "-", "--columns", ",".join(columns), "--no-header", "--store", store,
                   "--model", model, "--reasons", str(reasons), "--threads", "1"]

        def write(batch, pipe):
            batch.to_csv(pipe, header=False, index=False, na_rep="", lineterminator="\n")

        out, _ = commerceml_spark.pipe_through(command, batches, write)
        if not out:
            return
        frame = pd.read_csv(io.BytesIO(out), header=None, names=schema.fieldNames(), dtype=str,
                            keep_default_na=False)
        frame["churn"] = frame["churn"].astype("int32")
        frame["decile"] = frame["decile"].astype("int32")
        yield frame

    scores = customers.mapInPandas(score, schema=schema)
    writer = scores.write.mode("overwrite")
    if args.format == "parquet":
        writer.parquet(args.output)
    else:
        writer.option("header", True).option("quoteAll", False).csv(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
