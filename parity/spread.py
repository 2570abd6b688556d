"""Measure the spread of MNIST training across simulated machines: the evidence behind the ledger.

    python parity/spread.py run avx2-t1         # one profile (parity/profiles.py), in this process
    python parity/spread.py all [PROFILE ...]   # every profile, each in a fresh process with its env
    python parity/spread.py summary             # the spreads, from parity/spreads/*.json
    python parity/spread.py tests [PROFILE ...] # op, state_dict and optimizer parity under each profile
    python parity/spread.py chapter PROGRAMS PROFILE ...  # the chapter's full programs (xavier,deep,...)
    python parity/spread.py chapter-summary     # their spreads, from parity/spreads/chapter-*.json

For each profile it trains, as the lesson does, torch from its seeded weights and this engine from
torch's weights on torch's batch order: softmax and MLP, float32 and float64, 15 epochs, and writes
the per-epoch costs and test accuracies to ``parity/spreads/PROFILE.json``. ``summary`` then
compares torch with torch across profiles (the reference's own spread) and the engine with torch
within each profile (what a user of that machine sees). parity/ledger.toml cites these numbers.
"""

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "spreads"
RUNS = [("softmax", "float32"), ("mlp", "float32"), ("softmax", "float64"), ("mlp", "float64")]
EPOCHS = 15


def run_profile(name):
    """Train every run of RUNS under the current environment; write OUT/name.json."""
    import numpy as np

    from mnist_harness import engine_run, load_arrays, torch_fast

    arrays = load_arrays()
    path = OUT / f"{name}.json"
    result = json.loads(path.read_text()) if path.exists() else {"profile": name, "runs": {}}
    result["env"] = {k: v for k, v in os.environ.items() if k in _ENV_KEYS}
    chosen = os.environ.get("MINITORCH_RELU_SPREAD_RUNS")  # e.g. "mlp-float32,softmax-float32"
    for model, dtype in RUNS:
        if chosen and f"{model}-{dtype}" not in chosen.split(","):
            continue
        t0 = time.perf_counter()
        theirs = torch_fast(arrays, model, EPOCHS, dtype)
        ours = engine_run(arrays, theirs, model, EPOCHS, dtype)
        digest = float(sum(np.float64(np.abs(v).sum()) for v in theirs.initial_state.values()))
        result["runs"][f"{model}-{dtype}"] = {
            "torch": {"costs": theirs.costs, "accuracy_raw": theirs.accuracy_raw,
                      "accuracy_scaled": theirs.accuracy_scaled, "initial_abs_sum": digest},
            "engine": {"costs": [float(c) for c in ours.costs], "accuracy_raw": ours.accuracy_raw,
                       "accuracy_scaled": ours.accuracy_scaled},
            "weights_error": max(float(np.abs(np.asarray(ours.final_state[k]) - v).max()) / max(1.0, float(np.abs(v).max()))
                                 for k, v in theirs.final_state.items()),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(f"{name} {model} {dtype}: {result['runs'][f'{model}-{dtype}']['seconds']} s", flush=True)
        OUT.mkdir(exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n")  # after each run: a long job keeps what it did


_ENV_KEYS = ("OPENBLAS_CORETYPE", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "NPY_DISABLE_CPU_FEATURES",
             "MINITORCH_RELU_PARITY_THREADS")


def run_all(names):
    from profiles import profiles

    table = profiles()
    for name in names or table:
        env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
        env.update(table[name])
        subprocess.run([sys.executable, __file__, "run", name], env=env, check=True, cwd=HERE)


TEST_FILES = ["parity/test_ops_parity.py", "parity/test_state_dict_parity.py", "parity/test_optimizers.py"]


def run_tests(names):
    """The op, state_dict and optimizer parity tests under each profile; the worst error of each
    ledger key goes to OUT/tests-PROFILE.json."""
    from profiles import profiles

    table = profiles()
    OUT.mkdir(exist_ok=True)
    for name in names or table:
        log = OUT / f"tests-{name}.jsonl"
        log.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
        env.update(table[name], MINITORCH_RELU_LEDGER_LOG=str(log))
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TEST_FILES], env=env,
                       cwd=HERE.parent)
        worst = {}
        for line in log.read_text().splitlines():
            item = json.loads(line)
            worst[item["key"]] = max(worst.get(item["key"], 0.0), item["measured"])
        (OUT / f"tests-{name}.json").write_text(json.dumps(worst, indent=1) + "\n")
        log.unlink()
        print(name, worst, flush=True)


def run_chapter(programs, names):
    """The chapter's programs (comma-separated), full length, float32, in lockstep (chapter_harness),
    under each profile in a fresh process; each writes OUT/chapter-PROFILE.json after every program."""
    from profiles import profiles

    table = profiles()
    for name in names:
        env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
        env.update(table[name])
        subprocess.run([sys.executable, __file__, "chapter-run", programs, name], env=env, check=True, cwd=HERE)


def run_chapter_profile(programs, profile):
    from chapter_harness import load_arrays, lockstep

    from minitorch_relu.chapter import DEFAULTS

    arrays = load_arrays()
    path = OUT / f"chapter-{profile}.json"
    result = json.loads(path.read_text()) if path.exists() else {"profile": profile, "programs": {}}
    result["env"] = {k: v for k, v in os.environ.items() if k in _ENV_KEYS}
    for program in programs.split(","):
        t0 = time.perf_counter()
        run = lockstep(arrays, program, "float32", DEFAULTS[program][2])
        result["programs"][program] = {
            side: {"costs": getattr(run, side).costs, "accuracy": getattr(run, side).accuracy,
                   "evals": getattr(run, side).evals} for side in ("torch", "engine")}
        result["programs"][program]["seconds"] = round(time.perf_counter() - t0, 1)
        print(f"{profile} {program}: {result['programs'][program]['seconds']} s", flush=True)
        OUT.mkdir(exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n")


def chapter_spreads():
    """{program: {"torch_vs_torch" | "engine_vs_torch": {"epoch1", "max", "accuracy", "worst_pair"}}}:
    the largest relative cost difference (epoch 1 alone, and over all epochs) and accuracy difference,
    over every model of the program (batchnorm has two), between profiles or within each profile."""
    runs = {p.stem[len("chapter-"):]: json.loads(p.read_text())["programs"] for p in sorted(OUT.glob("chapter-*.json"))}
    out = {}
    for program in sorted({prog for res in runs.values() for prog in res}):
        have = {p: res[program] for p, res in runs.items() if program in res}
        pairs = {"torch_vs_torch": [(f"{a} vs {b}", have[a]["torch"], have[b]["torch"])
                                    for a, b in itertools.combinations(sorted(have), 2)],
                 "engine_vs_torch": [(p, have[p]["engine"], have[p]["torch"]) for p in sorted(have)]}
        out[program] = {}
        for kind, items in pairs.items():
            if not items:
                continue
            rows = []
            for label, x, y in items:
                for costs_x, costs_y, acc_x, acc_y in zip(x["costs"], y["costs"], x["accuracy"], y["accuracy"]):
                    rel = _relative(costs_x, costs_y)
                    rows.append((label, rel[0], max(rel), abs(acc_x - acc_y)))
            out[program][kind] = {"epoch1": max(r[1] for r in rows), "max": max(r[2] for r in rows),
                                  "accuracy": max(r[3] for r in rows), "worst_pair": max(rows, key=lambda r: r[2])[0],
                                  "profiles": sorted(have)}
    return out


def chapter_summary():
    for program, kinds in chapter_spreads().items():
        for kind, s in kinds.items():
            print(f"{program:10s} {kind:16s} epoch1 {s['epoch1']:.2e}  max {s['max']:.2e}  accuracy {s['accuracy']:.4f}"
                  f"  worst {s['worst_pair']}  ({len(s['profiles'])} profiles)")


def _relative(a, b):
    return [abs(x - y) / abs(y) for x, y in zip(a, b)]


def load():
    runs = {p.stem: json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))}
    return {name: result for name, result in runs.items() if "runs" in result}  # not tests-*, chapter-*, ...


def spreads(results=None):
    """For each run: the worst torch-vs-torch and engine-vs-torch differences, epoch by epoch.

    Returns {run: {"torch_vs_torch": {...}, "engine_vs_torch": {...}}}, each holding the per-epoch
    maximum relative cost difference ("epochs"), the largest accuracy difference (raw and scaled
    pixels) and which profiles gave the worst.
    """
    results = results or load()
    out = {}
    for run in {r for res in results.values() for r in res["runs"]}:
        have = {p: res["runs"][run] for p, res in results.items() if run in res["runs"]}
        pairs = {
            "torch_vs_torch": [(f"{a} vs {b}", have[a]["torch"], have[b]["torch"])
                               for a, b in itertools.combinations(sorted(have), 2)],
            "engine_vs_torch": [(p, have[p]["engine"], have[p]["torch"]) for p in sorted(have)],
        }
        out[run] = {}
        for kind, items in pairs.items():
            if not items:
                continue
            per_epoch = [max(_relative(x["costs"], y["costs"])[e] for _, x, y in items) for e in range(EPOCHS)]
            worst = max(items, key=lambda it: max(_relative(it[1]["costs"], it[2]["costs"])))
            accuracy = max(max(abs(x["accuracy_raw"] - y["accuracy_raw"]), abs(x["accuracy_scaled"] - y["accuracy_scaled"]))
                           for _, x, y in items)
            out[run][kind] = {"epochs": per_epoch, "max": max(per_epoch), "epoch1": per_epoch[0],
                              "accuracy": accuracy, "worst_pair": worst[0], "profiles": sorted(have)}
        out[run]["torch_accuracy_raw"] = sorted(have[p]["torch"]["accuracy_raw"] for p in have)
    return out


def summary():
    for run, kinds in sorted(spreads().items()):
        print(f"{run}: torch raw accuracies {kinds.pop('torch_accuracy_raw')}")
        for kind, s in kinds.items():
            print(f"  {kind:16s} epoch1 {s['epoch1']:.2e}  max {s['max']:.2e}  accuracy {s['accuracy']:.4f}  "
                  f"worst {s['worst_pair']}  ({len(s['profiles'])} profiles)")
            print("    per epoch: " + " ".join(f"{v:.1e}" for v in s["epochs"]))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    command = sys.argv[1] if len(sys.argv) > 1 else "summary"
    if command == "run":
        run_profile(sys.argv[2])
    elif command == "all":
        run_all(sys.argv[2:])
    elif command == "tests":
        run_tests(sys.argv[2:])
    elif command == "chapter":
        run_chapter(sys.argv[2], sys.argv[3:])
    elif command == "chapter-run":
        run_chapter_profile(sys.argv[2], sys.argv[3])
    elif command == "chapter-summary":
        chapter_summary()
    else:
        summary()
