"""The churn serving peer for Scripts/bench/serve.sh: MLServer (mlserver-sklearn) serving a scikit-learn
OneHotEncoder + LogisticRegression pipeline trained on the same Telco file, and the V2 bodies both servers get.

  python serve_peer_churn.py prepare TELCO.csv METADATA.json OUTDIR HTTP_PORT GRPC_PORT METRICS_PORT WORKERS

METADATA.json is `GET /v2/models/churn` from `churn serve` (the model's columns and their V2 datatypes): the
pipeline one-hot encodes the BYTES columns and scales the FP64 ones; the bodies hold the first customers with every
value present, one input per column (MLServer's pandas codec: request parameter content_type "pd", BYTES inputs
content_type "str"), and ask for predict_proba. Writes OUTDIR/model (the MLServer model repository and its
settings) and OUTDIR/body-1.json, OUTDIR/body-100.json.
"""

import json
import os
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def prepare(telco, metadata_path, out, http_port, grpc_port, metrics_port, workers):
    metadata = json.load(open(metadata_path))
    inputs = metadata["inputs"]
    text_columns = [i["name"] for i in inputs if i["datatype"] == "BYTES"]
    number_columns = [i["name"] for i in inputs if i["datatype"] == "FP64"]
    frame = pd.read_csv(telco, dtype=str, keep_default_na=False)
    target = (frame["churn"].str.lower().isin(["yes", "1", "true"])).astype(int)
    features = pd.DataFrame({c: frame[c] for c in text_columns})
    for c in number_columns:
        features[c] = pd.to_numeric(frame[c].replace("", np.nan), errors="coerce")
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        ("categories", OneHotEncoder(handle_unknown="ignore"), text_columns),
                        (
                            "numbers",
                            Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                            number_columns,
                        ),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=2000)),
        ]
    )
    pipeline.fit(features, target)
    model_dir = os.path.join(out, "model")
    os.makedirs(model_dir, exist_ok=True)
    joblib.dump(pipeline, os.path.join(model_dir, "model.joblib"))
    json.dump(
        {
            "name": "churn",
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "1"},
        },
        open(os.path.join(model_dir, "model-settings.json"), "w"),
    )
    json.dump(
        {
            "host": "127.0.0.1",
            "http_port": int(http_port),
            "grpc_port": int(grpc_port),
            "metrics_port": int(metrics_port),
            "parallel_workers": int(workers),
            "debug": False,
        },
        open(os.path.join(model_dir, "settings.json"), "w"),
    )
    complete = features.dropna()
    for n in (1, 100):
        rows = complete.iloc[:n]
        body = {
            "id": f"bench-{n}",
            "parameters": {"content_type": "pd"},
            "inputs": [],
            "outputs": [{"name": "predict_proba"}],
        }
        for i in inputs:
            name = i["name"]
            if i["datatype"] == "FP64":
                body["inputs"].append(
                    {"name": name, "datatype": "FP64", "shape": [n], "data": [float(v) for v in rows[name]]}
                )
            else:
                body["inputs"].append(
                    {
                        "name": name,
                        "datatype": "BYTES",
                        "shape": [n],
                        "parameters": {"content_type": "str"},
                        "data": [str(v) for v in rows[name]],
                    }
                )
        json.dump(body, open(os.path.join(out, f"body-{n}.json"), "w"))
    print(f"trained on {len(features)} customers; bodies of 1 and 100 customers written")


if __name__ == "__main__":
    if len(sys.argv) != 9 or sys.argv[1] != "prepare":
        sys.exit(__doc__)
    prepare(*sys.argv[2:])
