"""Spark's side of Scripts/bench/spark_import.sh: random factors of USERS users and ITEMS items × RANK written in the
interchange layout by the same export as train_als.py (CSV part files); prints Spark's write seconds."""
import json
import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

out, users, items, rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
spark = SparkSession.builder.appName("commerceml-bench-factors").getOrCreate()
seconds = 0.0
for name, count, prefix in [("user_factors", users, "u"), ("item_factors", items, "i")]:
    frame = spark.range(count).select(
        F.concat(F.lit(prefix), F.col("id").cast("string")).alias("id"),
        *[(F.rand(seed=k) - 0.5).cast("float").alias(f"f{k}") for k in range(rank)],
    ).cache()
    frame.count()  # generated before the clock starts: only the write is timed
    started = time.perf_counter()
    frame.write.mode("overwrite").option("header", True).csv(os.path.join(out, name))
    seconds += time.perf_counter() - started
    frame.unpersist()
with open(os.path.join(out, "metadata.json"), "w") as f:
    json.dump({"format": "commerceml-als-factors", "rank": rank, "implicit_prefs": True, "reg_param": 0.1,
               "alpha": 1.0, "max_iter": 10, "spark_version": spark.version}, f)
print(f"{seconds:.3f}")
spark.stop()
