"""Running a CommerceML command on each partition of a Spark DataFrame, on the executors.

The command-line binary and, for a SQLite store, the store file are shipped with the job (SparkContext.addFile);
each executor runs the binary on its partition through a pipe (mapInPandas), so the scores come from the same code
as `churn score` and `recommend batch` on one machine. A PostgreSQL store URL is passed as it is: every executor
reads the shared registry. The executors need the binary's shared libraries (the Swift runtime unless it was built
with --static-swift-stdlib, and libopenblas).
"""

import os
import shutil
import subprocess
import tempfile
import threading

from pyspark import SparkFiles


def ship(spark, binary, store):
    """Adds the binary (and a SQLite store) to the job; returns how an executor finds them."""
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary}: not an executable CommerceML binary")
    spark.sparkContext.addFile(binary)
    shipped_store = None
    if not store.startswith(("postgresql://", "postgres://")):
        store = os.path.abspath(store)
        if not os.path.isfile(store):
            raise SystemExit(f"{store}: no model store here (train a model first)")
        spark.sparkContext.addFile(store)
        shipped_store = os.path.basename(store)
    return {"binary": os.path.basename(binary), "store": store, "shipped_store": shipped_store}


def located(shipped):
    """The binary's and the store's paths on this executor."""
    binary = SparkFiles.get(shipped["binary"])
    os.chmod(binary, 0o755)
    store = SparkFiles.get(shipped["shipped_store"]) if shipped["shipped_store"] else shipped["store"]
    return binary, store


def pipe_through(command, batches, write_batch):
    """Runs `command`, writing every batch to its standard input from a thread; returns (stdout bytes, stderr)."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    failure = []

    def feed():
        try:
            for batch in batches:
                write_batch(batch, process.stdin)
        except BrokenPipeError:
            pass
        except Exception as error:  # reported after the command ends
            failure.append(error)
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass

    errors = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
    reader.start()
    feeder = threading.Thread(target=feed)
    feeder.start()
    out = process.stdout.read()
    feeder.join()
    process.wait()
    reader.join()
    stderr = errors[0].decode(errors="replace") if errors else ""
    if failure:
        raise failure[0]
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed on a partition (exit {process.returncode}): {stderr}")
    return out, stderr


def scratch_directory():
    return tempfile.mkdtemp(prefix="commerceml-partition-")


def remove(directory):
    shutil.rmtree(directory, ignore_errors=True)
