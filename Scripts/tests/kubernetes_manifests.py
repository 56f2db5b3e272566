"""Checks deploy/kubernetes/ against the Kubernetes schemas and against the image and the tools it runs.

Usage:
  kubernetes_manifests.py check VERSION [FIGURES]   every check below; prints "kubernetes: N passed"
  kubernetes_manifests.py command NAME              the command and arguments of the Deployment or CronJob NAME,
                                                    one per line (Scripts/container.sh test runs exactly them)

The schemas are kubernetes-validate's (PyPI), strict (no unknown field), at the oldest Kubernetes the manifests
use a feature of (1.30: the preStop sleep action, podFailurePolicy) and at the newest the package knows. A mutated
copy of each manifest with an unknown field or a wrong type must be refused, so the validation is known to bite.
FIGURES is Scripts/container.sh's figures file: each server's memory request must cover the peak resident memory
measured in the container.
"""

import copy
import os
import sys

import kubernetes_validate
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, "deploy", "kubernetes")
MANIFESTS = ["store.yaml", "recommend.yaml", "churn.yaml", "fraud.yaml", "cronjobs.yaml"]
VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]
IMAGE_UID = 10001
SERVERS = {"recommend", "churn", "fraud"}


def load(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def resources():
    return [(name, d) for name in MANIFESTS for d in load(name)]


def pod_spec(resource):
    if resource["kind"] == "Deployment":
        return resource["spec"]["template"]["spec"]
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def quantity(text):
    """Bytes of a Kubernetes memory quantity (Mi, Gi, M, G or plain)."""
    text = str(text)
    for suffix, factor in (("Ki", 1024), ("Mi", 1024**2), ("Gi", 1024**3), ("K", 1000), ("M", 1000**2), ("G", 1000**3)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def option(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def command(name):
    for _, r in resources():
        if r["metadata"]["name"] == name and pod_spec(r) is not None:
            c = pod_spec(r)["containers"][0]
            return c["command"] + c.get("args", [])
    sys.exit(f"kubernetes: no Deployment or CronJob named {name}")


class Checks:
    def __init__(self):
        self.passed = 0

    def ok(self, condition, what):
        if not condition:
            sys.exit(f"kubernetes: FAILED: {what}")
        self.passed += 1


def check(version, figures_path):
    t = Checks()
    all_resources = resources()

    for v in VERSIONS:
        for name, r in all_resources:
            try:
                kubernetes_validate.validate(r, v, strict=True)
            except Exception as e:  # the package's ValidationError and its schema errors
                t.ok(False, f"{name}: {r['kind']}/{r['metadata']['name']} against {v}: {e}")
        t.ok(True, f"{len(all_resources)} resources valid against Kubernetes {v} (strict)")

    # The validation refuses what it should: an unknown field, a wrong type, a required field missing.
    def drop_required(d):
        if pod_spec(d) is not None:
            del pod_spec(d)["containers"][0]["name"]
        elif d["kind"] == "Service":
            del d["spec"]["ports"][0]["port"]
        else:
            d["spec"]["accessModes"] = "ReadWriteOnce"  # a string where a list belongs

    for name, r in all_resources:
        for mutate, what in (
            (lambda d: d["spec"].__setitem__("replica", 1), "an unknown field"),
            (lambda d: d["metadata"].__setitem__("name", 42), "a number as the name"),
            (drop_required, "a required field missing or mistyped"),
        ):
            bad = copy.deepcopy(r)
            mutate(bad)
            try:
                kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)
                refused = False
            except Exception:
                refused = True
            t.ok(refused, f"{name}: {r['kind']} with {what} passed validation")

    with open(os.path.join(DEPLOY, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    t.ok(kustomization["resources"] == MANIFESTS, f"kustomization resources {kustomization['resources']}")
    t.ok(
        kustomization["images"] == [{"name": "commerceml", "newTag": version}],
        f"kustomization images {kustomization['images']} (expected commerceml:{version})",
    )
    listed = sorted(f for f in os.listdir(DEPLOY) if f.endswith(".yaml") and f != "kustomization.yaml")
    t.ok(listed == sorted(MANIFESTS), f"manifests on disk {listed} are not the ones checked {MANIFESTS}")

    figures = {}
    if figures_path and os.path.exists(figures_path):
        with open(figures_path) as f:
            figures = dict(line.strip().split("=", 1) for line in f if "=" in line)

    deployments = {r["metadata"]["name"]: r for _, r in all_resources if r["kind"] == "Deployment"}
    services = {r["metadata"]["name"]: r for _, r in all_resources if r["kind"] == "Service"}
    t.ok(set(deployments) == SERVERS, f"Deployments {sorted(deployments)}")
    t.ok(set(services) == SERVERS, f"Services {sorted(services)}")
    claims = {r["metadata"]["name"] for _, r in all_resources if r["kind"] == "PersistentVolumeClaim"}

    for name, r in all_resources:
        spec = pod_spec(r)
        if spec is None:
            continue
        what = f"{r['kind']} {r['metadata']['name']}"
        security = spec["securityContext"]
        t.ok(
            security.get("runAsNonRoot") is True and security.get("runAsUser") == IMAGE_UID,
            f"{what}: runs as root or not as the image's user {IMAGE_UID}",
        )
        t.ok(security.get("fsGroup") == IMAGE_UID, f"{what}: the volume is not group-writable by the image's user")
        (container,) = spec["containers"]
        t.ok(container["image"] == f"commerceml:{version}", f"{what}: image {container['image']}")
        t.ok(container["command"][0] in SERVERS, f"{what}: command {container['command']}")
        cs = container["securityContext"]
        t.ok(
            cs.get("readOnlyRootFilesystem") is True
            and cs.get("allowPrivilegeEscalation") is False
            and cs.get("capabilities", {}).get("drop") == ["ALL"],
            f"{what}: the container's security context",
        )
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        t.ok(
            mounts.get("/data") in volumes
            and volumes[mounts["/data"]].get("persistentVolumeClaim", {}).get("claimName") in claims,
            f"{what}: /data is not the store's volume",
        )
        t.ok("emptyDir" in volumes.get(mounts.get("/tmp"), {}), f"{what}: no writable /tmp on a read-only root")
        env = {e["name"]: e for e in container["env"]}
        store = env.get("COMMERCEML_STORE", {}).get("valueFrom", {}).get("secretKeyRef", {})
        t.ok(
            store.get("name") == "commerceml-store" and store.get("optional") is True,
            f"{what}: COMMERCEML_STORE is not the optional commerceml-store Secret",
        )
        requests, limits = container["resources"]["requests"], container["resources"].get("limits", {})
        t.ok("cpu" in requests and "memory" in requests, f"{what}: no cpu and memory requests")
        t.ok(
            quantity(limits.get("memory", 0)) >= quantity(requests["memory"]),
            f"{what}: a memory limit below the request",
        )
        # The memory request matches the peak measured in the container: at least 1.25x, at most 5x.
        measured = f"{r['metadata']['name']}_serve" if r["kind"] == "Deployment" else r["metadata"]["name"]
        peak = figures.get(f"{measured}_peak_rss_kib")
        if peak is not None:
            ratio = quantity(requests["memory"]) / (float(peak) * 1024)
            t.ok(
                1.25 <= ratio <= 5,
                f"{what}: the memory request {requests['memory']} is {ratio:.2f}x the measured peak"
                f" {float(peak) / 1024:.1f} MiB (expected 1.25x to 5x)",
            )
        args = container.get("args", [])
        if r["kind"] == "Deployment":
            app = r["metadata"]["name"]
            t.ok(args[:1] == ["serve"] and option(args, "--host") == "0.0.0.0", f"{what}: not serve on 0.0.0.0")
            (port,) = container["ports"]
            t.ok(
                port["name"] == "http" and str(port["containerPort"]) == option(args, "--port"),
                f"{what}: the port named http is not --port",
            )
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
                get = container[probe]["httpGet"]
                t.ok(get["path"] == path and get["port"] == "http", f"{what}: {probe} is not {path} on http")
            pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
            grace = float(option(args, "--grace", "10"))
            t.ok(
                spec["terminationGracePeriodSeconds"] >= pause + grace + 10,
                f"{what}: terminationGracePeriodSeconds {spec['terminationGracePeriodSeconds']} does not cover the"
                f" preStop pause {pause} s, --grace {grace} s and 10 s to spare",
            )
            service = services[app]
            t.ok(
                service["spec"]["selector"] == r["spec"]["selector"]["matchLabels"]
                and service["spec"]["selector"].items() <= r["spec"]["template"]["metadata"]["labels"].items(),
                f"Service {app} does not select the Deployment's pods",
            )
            t.ok(service["spec"]["ports"][0]["targetPort"] == "http", f"Service {app} does not target port http")
            if app == "fraud":
                t.ok(
                    r["spec"]["replicas"] == 1 and r["spec"]["strategy"]["type"] == "Recreate",
                    "fraud: one writer owns the state: one replica, Recreate",
                )
                t.ok("--resume" in args, "fraud: a restart must resume from the checkpoint")
        else:
            job = r["spec"]["jobTemplate"]["spec"]
            t.ok(spec["restartPolicy"] == "Never", f"{what}: restartPolicy must be Never for podFailurePolicy")
            (rule,) = job["podFailurePolicy"]["rules"]
            t.ok(
                rule["action"] == "FailJob"
                and rule["onExitCodes"]["containerName"] == container["name"]
                and set(rule["onExitCodes"]["values"]) == {64, 65, 66, 69},
                f"{what}: refusals of the input (64, 65, 66, 69) must fail the job without retries",
            )
            t.ok(r["spec"]["concurrencyPolicy"] == "Forbid", f"{what}: two nightly runs must not overlap")
            t.ok(option(args, "--output", "").startswith("/data/"), f"{what}: the output is not on the volume")
    print(f"kubernetes: {t.passed} passed")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "command":
        print("\n".join(command(sys.argv[2])))
    else:
        sys.exit(__doc__)
