"""Trains implicit-feedback ALS on Spark MLlib and writes the factors in CommerceML's interchange layout.

    spark-submit Scripts/spark/train_als.py --interactions interactions.csv --output factors/ \
        [--user-col user_id] [--item-col item_id] [--value-col quantity] [--rank 64] [--max-iter 10] \
        [--reg-param 0.1] [--alpha 1.0] [--seed 42] [--checkpoint-dir DIR] [--evaluate test.csv --k 10]
    recommend import --spark-factors factors/ --interactions interactions.csv

The interactions are CSV with a header line (a file or a directory of part files) or Parquet (a path ending in
.parquet). String ids are mapped to Spark's integer ids with StringIndexer and mapped back on export. Without
--value-col every row counts 1; rows of the same user and item are summed (as `recommend train` does). The
checkpoint directory keeps long runs from overflowing the stack (ALS's lineage grows with every iteration).

The layout, read by `recommend import --spark-factors DIR`:

    DIR/metadata.json        {"format": "commerceml-als-factors", "rank": R, "implicit_prefs": true,
                              "reg_param": …, "alpha": …, "max_iter": …, "spark_version": …, "users": …, "items": …}
    DIR/user_factors/*.csv   id,f0,…,f{R-1}: a header line, then one user per line (original ids)
    DIR/item_factors/*.csv   id,f0,…,f{R-1}: one item per line

--evaluate TEST.csv prints the NDCG@k of these factors on held-out interactions, as `recommend measure` defines it:
for each user the factors know, the test items the user had not in training (and the factors know) are the
relevant ones; the top k are the highest scores x_u·y_i among the items the user had not in training.
"""

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np
from pyspark.ml.feature import StringIndexer
from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def read(spark, path):
    if path.endswith(".parquet"):
        return spark.read.parquet(path)
    return spark.read.option("header", True).csv(path)


def write_factors(frame, labels, rank, path):
    """Writes (original id, f0…) as CSV part files; returns the seconds it took."""
    lookup = frame.sparkSession.createDataFrame(list(enumerate(labels)), ["index", "label"])
    out = frame.join(lookup, frame["id"] == lookup["index"]).select(
        F.col("label").alias("id"), *[F.col("features")[i].alias(f"f{i}") for i in range(rank)]
    )
    started = time.perf_counter()
    out.write.mode("overwrite").option("header", True).csv(path)
    return time.perf_counter() - started


def ndcg(user_factors, item_factors, train, test, k):
    """NDCG@k over the users with relevant test items (see the module's description)."""
    users = {u: r for r, u in enumerate(user_factors[0])}
    items = {i: c for c, i in enumerate(item_factors[0])}
    U, V = user_factors[1], item_factors[1]
    seen = {}
    for u, i in train:
        if u in users and i in items:
            seen.setdefault(users[u], set()).add(items[i])
    relevant = {}
    for u, i in test:
        if u in users and i in items:
            r, c = users[u], items[i]
            if c not in seen.get(r, ()):
                relevant.setdefault(r, set()).add(c)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    total = 0.0
    for r, wanted in relevant.items():
        scores = V @ U[r]
        for c in seen.get(r, ()):
            scores[c] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        dcg = sum(discounts[j] for j, c in enumerate(top) if c in wanted)
        total += dcg / discounts[: min(k, len(wanted))].sum()
    return total / len(relevant), len(relevant)


def collect(frame, labels):
    rows = frame.orderBy("id").collect()
    return [labels[row["id"]] for row in rows], np.array([row["features"] for row in rows], dtype=np.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--user-col", default="user_id")
    parser.add_argument("--item-col", default="item_id")
    parser.add_argument("--value-col")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--reg-param", type=float, default=0.1)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint-dir")
    parser.add_argument("--evaluate", help="held-out interactions (CSV with the same id columns): print NDCG@k")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    spark = SparkSession.builder.appName("commerceml-train-als").getOrCreate()
    checkpoints = args.checkpoint_dir or tempfile.mkdtemp(prefix="commerceml-als-checkpoints-")
    spark.sparkContext.setCheckpointDir(checkpoints)
    raw = read(spark, args.interactions)
    for column in [args.user_col, args.item_col] + ([args.value_col] if args.value_col else []):
        if column not in raw.columns:
            raise SystemExit(f"{args.interactions}: no column '{column}' (columns: {', '.join(raw.columns)})")
    value = F.col(args.value_col).cast("double") if args.value_col else F.lit(1.0)
    pairs = raw.select(
        F.col(args.user_col).cast("string").alias("user"), F.col(args.item_col).cast("string").alias("item"),
        value.alias("value"),
    )
    if pairs.filter(F.col("user").isNull() | F.col("item").isNull() | F.col("value").isNull()).limit(1).count():
        raise SystemExit(f"{args.interactions}: a row with an empty id or a value that is not a number")
    pairs = pairs.groupBy("user", "item").agg(F.sum("value").alias("value"))
    user_indexer = StringIndexer(inputCol="user", outputCol="user_index", stringOrderType="alphabetAsc").fit(pairs)
    item_indexer = StringIndexer(inputCol="item", outputCol="item_index", stringOrderType="alphabetAsc").fit(pairs)
    indexed = item_indexer.transform(user_indexer.transform(pairs)).select(
        F.col("user_index").cast("int"), F.col("item_index").cast("int"), "value"
    )
    als = ALS(
        rank=args.rank, maxIter=args.max_iter, regParam=args.reg_param, alpha=args.alpha, implicitPrefs=True,
        userCol="user_index", itemCol="item_index", ratingCol="value", seed=args.seed, checkpointInterval=5,
        coldStartStrategy="drop", nonnegative=False,
    )
    started = time.perf_counter()
    model = als.fit(indexed)
    fit_seconds = time.perf_counter() - started
    user_labels, item_labels = user_indexer.labelsArray[0], item_indexer.labelsArray[0]
    if os.path.exists(args.output):
        shutil.rmtree(args.output)
    os.makedirs(args.output)
    write_seconds = write_factors(model.userFactors, user_labels, args.rank, os.path.join(args.output, "user_factors"))
    write_seconds += write_factors(model.itemFactors, item_labels, args.rank, os.path.join(args.output, "item_factors"))
    metadata = {
        "format": "commerceml-als-factors", "rank": args.rank, "implicit_prefs": True, "reg_param": args.reg_param,
        "alpha": args.alpha, "max_iter": args.max_iter, "spark_version": spark.version,
        "users": len(user_labels), "items": len(item_labels),
    }
    with open(os.path.join(args.output, "metadata.json"), "w") as f:
        json.dump(metadata, f, indent=2)
    summary = {"fit_seconds": round(fit_seconds, 3), "export_seconds": round(write_seconds, 3)}
    if args.evaluate:
        test = read(spark, args.evaluate).select(
            F.col(args.user_col).cast("string"), F.col(args.item_col).cast("string")).collect()
        train = pairs.select("user", "item").collect()
        value, users = ndcg(
            collect(model.userFactors, user_labels), collect(model.itemFactors, item_labels),
            [(r[0], r[1]) for r in train], [(r[0], r[1]) for r in test], args.k)
        summary[f"ndcg_at_{args.k}"] = value
        summary["test_users"] = users
    print(json.dumps(summary))
    if not args.checkpoint_dir:
        shutil.rmtree(checkpoints, ignore_errors=True)
    spark.stop()


if __name__ == "__main__":
    main()
