"""Recommends for a list of users on Spark: `recommend batch` on every partition of the user list.

    spark-submit Scripts/spark/batch_recommend.py --users users.csv --output recommendations/ \
        --store commerceml.sqlite --binary .build/release/recommend [--model recommender] [--user-col user_id] \
        [-n 10] [--partitions 4]

Each partition's users are written to a file on the executor and given to `recommend batch --users FILE`; the rows
(user_id, rank, item_id, score, source) are exactly those `recommend batch` writes for the whole list, unknown users
getting the popularity fallback (source `popularity`).
"""

import argparse
import os

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

import commerceml_spark


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", required=True, help="a CSV with a header (or Parquet) holding the user ids")
    parser.add_argument("--output", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--binary", required=True, help="the recommend executable")
    parser.add_argument("--model", default="recommender")
    parser.add_argument("--user-col", default="user_id")
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=0)
    args = parser.parse_args()

    spark = SparkSession.builder.appName("commerceml-batch-recommend").getOrCreate()
    users = spark.read.parquet(args.users) if args.users.endswith(".parquet") else (
        spark.read.option("header", True).csv(args.users))
    if args.user_col not in users.columns:
        raise SystemExit(f"{args.users}: no '{args.user_col}' column")
    users = users.select(users[args.user_col].cast("string").alias("user_id")).dropDuplicates()
    if args.partitions > 0:
        users = users.repartition(args.partitions)
    shipped = commerceml_spark.ship(spark, args.binary, args.store)
    schema = StructType([
        StructField("user_id", StringType()), StructField("rank", IntegerType()), StructField("item_id", StringType()),
        StructField("score", StringType()), StructField("source", StringType()),
    ])
    model, n = args.model, args.n

    def recommend(batches):
        binary, store = commerceml_spark.located(shipped)
        scratch = commerceml_spark.scratch_directory()
        try:
            path = os.path.join(scratch, "users.csv")
            frames = list(batches)
            if not frames or sum(len(f) for f in frames) == 0:
                return
            pd.concat(frames).to_csv(path, index=False)
            out = os.path.join(scratch, "recommendations.csv")
            command = [binary, "batch", "--users", path, "--output", out, "-n", str(n), "--store", store,
                       "--model", model, "--threads", "1"]
            commerceml_spark.pipe_through(command, [], lambda batch, pipe: None)
            frame = pd.read_csv(out, dtype={"user_id": str, "item_id": str, "score": str, "source": str},
                                keep_default_na=False)
            frame["rank"] = frame["rank"].astype("int32")
            yield frame[["user_id", "rank", "item_id", "score", "source"]]
        finally:
            commerceml_spark.remove(scratch)

    users.mapInPandas(recommend, schema=schema).write.mode("overwrite").option("header", True).csv(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
