"""The Open Inference Protocol v2 routes of `recommend serve` and `churn serve`, called by a client nobody here wrote:
tritonclient's InferenceServerClient (HTTP). Compares every answer with the command line's.

Usage: v2_client.py BIN_DIR STORE RECOMMEND_URL CHURN_URL CUSTOMERS_CSV
Prints `v2-client: N passed, M failed` and exits 1 on any failure.
"""
import csv
import json
import subprocess
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

bin_dir, store, rec_url, churn_url, customers = sys.argv[1:6]
passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"v2-client: FAILED: {what}", file=sys.stderr)


def cli(tool, *args):
    return subprocess.run([f"{bin_dir}/{tool}", *args, "--store", store], capture_output=True, text=True, check=True).stdout


# recommend: readiness, metadata, infer for users the model knows and one it does not.
rec = httpclient.InferenceServerClient(url=rec_url.removeprefix("http://"))
check(rec.is_server_live(), "recommend: server live")
check(rec.is_server_ready(), "recommend: server ready")
check(rec.is_model_ready("recommender"), "recommend: model ready")
meta = rec.get_model_metadata("recommender")
check([i["name"] for i in meta["inputs"]] == ["user_id"], f"recommend: metadata inputs {meta['inputs']}")
check([o["name"] for o in meta["outputs"]] == ["item_id", "score"], f"recommend: metadata outputs {meta['outputs']}")
users = ["U-0001", "U-0002", "U-0417", "someone-new"]
inp = httpclient.InferInput("user_id", [len(users)], "BYTES")
inp.set_data_from_numpy(np.array(users, dtype=object))
result = rec.infer("recommender", [inp], parameters={"n": 4}, request_id="req-42")
ids = result.as_numpy("item_id")
scores = result.as_numpy("score")
check(ids.shape == (4, 4) and scores.shape == (4, 4), f"recommend: shapes {ids.shape} {scores.shape}")
check(result.get_response()["id"] == "req-42", "recommend: the request id is echoed")
for k, user in enumerate(users):
    expected = json.loads(cli("recommend", user, "-n", "4", "--format", "json"))
    got = [x.decode() if isinstance(x, bytes) else x for x in ids[k]]
    check(got == [i["item_id"] for i in expected["items"]], f"recommend: {user} items {got}")
    check(np.allclose(scores[k], [i["score"] for i in expected["items"]], rtol=0, atol=1e-6), f"recommend: {user} scores")
versioned = rec.infer("recommender", [inp], model_version="1", parameters={"n": 4})
check(versioned.get_response()["model_version"] == "1", "recommend: a versioned URL")
try:
    rec.infer("nothing-here", [inp])
    check(False, "recommend: an unknown model is refused")
except InferenceServerException as e:
    check("no model 'nothing-here'" in str(e), f"recommend: unknown model message {e}")

# churn: one input per column as MLServer's pandas codec sends them; probabilities equal churn score's (which
# prints six decimals). The first 200 customers include blank numbers.
churn = httpclient.InferenceServerClient(url=churn_url.removeprefix("http://"))
check(churn.is_server_ready(), "churn: server ready")
meta = churn.get_model_metadata("churn")
with open(customers, newline="") as f:
    rows = list(csv.DictReader(f))[:200]
inputs = []
for column in meta["inputs"]:
    values = [r[column["name"]] for r in rows]
    if column["datatype"] == "FP64":
        # A blank number is missing: NaN, as MLServer's pandas codec sends it (in binary, tritonclient's default).
        t = httpclient.InferInput(column["name"], [len(rows)], "FP64")
        t.set_data_from_numpy(np.array([float(v) if v.strip() else np.nan for v in values], dtype=np.float64))
    else:
        t = httpclient.InferInput(column["name"], [len(rows)], "BYTES")
        t.set_data_from_numpy(np.array(values, dtype=object))
    inputs.append(t)
result = churn.infer("churn", inputs, parameters={"reasons": 0})
probability = result.as_numpy("probability")
decision = result.as_numpy("decision")
scored = list(csv.reader(cli("churn", "score", customers, "--reasons", "0").splitlines()))[1:201]
check(len(probability) == len(scored), f"churn: {len(probability)} probabilities for {len(scored)} customers")
for p, d, row in zip(probability, decision, scored):
    check(abs(float(p) - float(row[1])) < 5e-7, f"churn: {row[0]} probability {p} vs {row[1]}")
    d = d.decode() if isinstance(d, bytes) else d
    check((d == "churn") == (row[2] == "1"), f"churn: {row[0]} decision {d} vs {row[2]}")

print(f"v2-client: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
