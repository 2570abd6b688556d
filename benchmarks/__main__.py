"""python -m benchmarks: this engine against torch on the CPU, written to a markdown table and a PNG.

    python -m benchmarks                   # everything, a few minutes on a quiet 2-core machine
    python -m benchmarks --quick           # fewer repeats, 2 epochs end to end: a smoke run
    python -m benchmarks --only steps,overhead --threads 1

Every measurement runs in a fresh interpreter (benchmarks/worker.py), one at a time; engine and torch
runs are interleaved round by round, so a burst of load elsewhere hits both. A result is the median
over all the runs' repeats; ratios are ratios of those medians, from this one invocation.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import report

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("steps", "sweep", "overhead", "import", "e2e")
STEP_FRAMEWORKS = ("engine", "floor", "floor-inplace", "torch", "torch-noforeach")


def run_worker(spec, env):
    """One measurement in a fresh process; returns its JSON result (plus the load around it)."""
    load_before, started = os.getloadavg()[0], time.perf_counter()
    env = dict(env, **spec.get("env", {}))  # a run's own settings (the engine with one BLAS thread)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(spec)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec} failed with exit code {proc.returncode}:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["spec"] = spec
    result["process_wall_seconds"] = time.perf_counter() - started  # interpreter start to exit
    result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
    return result


def rounds(specs, n_rounds, env, log):
    """Run every spec once per round, rotating the order each round; returns results grouped by spec."""
    results = [[] for _ in specs]
    for r in range(n_rounds):
        order = list(range(len(specs)))
        order = order[r % len(order):] + order[: r % len(order)]
        for i in order:
            result = run_worker(specs[i], env)
            results[i].append(result)
            log(f"  round {r + 1}/{n_rounds} {_describe(specs[i])}: {_summary(result)}")
    return results


def _describe(spec):
    keys = ("task", "framework", "model", "batch", "epochs")
    return " ".join(str(spec[k]) for k in keys if k in spec)


def _summary(result):
    for key, fmt in (("median", "{:.3f} s"), ("median_ratio", "engine / floor {:.3f}x"), ("seconds", "{:.3f} s"),
                     ("program_seconds", "{:.1f} s"),
                     ("forward_backward_us", "{:.1f} us")):
        if key in result:
            return fmt.format(result[key]) + f" (load {result['load_before']:.1f})"
    return "done"


def pooled_median(results, key="times", scale=1.0):
    values = [t * scale for r in results for t in r[key]]
    return statistics.median(values)


def child_env(args):
    env = dict(os.environ)
    if args.threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.threads)
    if args.unset_coretype:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


# ----- sections -----------------------------------------------------------------------------------
def section_steps(args, env, log, models, batches, n_rounds, tag):
    """Compute-only training: seconds per 600 steps for each model, batch and framework."""
    rows = []
    for model in models:
        for batch in batches:
            # Large batches: time fewer steps and scale to 600, so the section stays short.
            steps = 600 if batch <= 256 else 150
            if args.quick:
                steps //= 4
            frameworks = STEP_FRAMEWORKS if model == "mlp" else ("engine", "torch", "torch-noforeach")
            if tag == "sweep":  # the in-place floor only at batch 100
                frameworks = tuple(fw for fw in frameworks if fw != "floor-inplace")
            elif args.threads != 1:  # also the engine with a single BLAS thread, beside torch's default
                frameworks += ("engine-1thread",)
            specs = [{"task": "step", "framework": fw, "model": model, "batch": batch, "steps": steps,
                      "repeats": 2, "warmup": 30, "max_seconds": 10 if args.quick else 30} for fw in frameworks]
            for spec in specs:
                if spec["framework"] == "engine-1thread":
                    spec["env"] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
            log(f"{tag}: {model}, batch {batch}, {steps} steps x 2 per run, {n_rounds} rounds")
            results = rounds(specs, n_rounds, env, log)
            for fw, res in zip(frameworks, results):
                rows.append({"model": model, "batch": batch, "framework": fw, "steps_timed": steps,
                             "epoch_seconds": pooled_median(res, scale=600 / steps),
                             "runs": len(res) * 2, "runtime": res[0]["runtime"],
                             "cut": any(d < steps for r in res for d in r["steps_done"]),
                             "cpu_epoch_seconds": pooled_median(res, key="cpu_times", scale=600 / steps),
                             "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in res),
                             "load": statistics.median(r["load_before"] for r in res)})
    return rows


def section_paired(args, env, log, n_rounds):
    """Engine against the floor in one process, alternating blocks of steps: the steady floor ratio."""
    spec = {"task": "paired", "model": "mlp", "batch": 100, "block": 50 if args.quick else 100,
            "pairs": 6 if args.quick else 12}
    log(f"paired: engine and floor in one process, {spec['pairs']} pairs of {spec['block']}-step blocks, "
        f"{n_rounds} processes")
    (results,) = rounds([spec], n_rounds, env, log)
    ratios = [x for r in results for x in r["ratios"]]
    return {"model": "mlp", "batch": 100, "block": spec["block"], "pairs": len(ratios),
            "median_ratio": statistics.median(ratios), "ratios": ratios,
            "engine_epoch_seconds": statistics.median(t for r in results for t in r["times"]["engine"]),
            "floor_epoch_seconds": statistics.median(t for r in results for t in r["times"]["floor"]),
            "load": statistics.median(r["load_before"] for r in results)}


def section_overhead(args, env, log):
    specs = [{"task": "overhead", "framework": fw, "n": 5000 if args.quick else 20000} for fw in ("engine", "torch")]
    log("overhead: a 1x1 add, forward and forward + backward")
    results = rounds(specs, 2 if args.quick else 3, env, log)
    return [{"framework": spec["framework"],
             "forward_us": statistics.median(r["forward_us"] for r in res),
             "forward_backward_us": statistics.median(r["forward_backward_us"] for r in res)}
            for spec, res in zip(specs, results)]


def section_import(args, env, log):
    specs = [{"task": "import", "framework": fw} for fw in ("engine", "torch")]
    log("import time")
    results = rounds(specs, 3 if args.quick else 7, env, log)
    return [{"framework": spec["framework"], "seconds": statistics.median(r["seconds"] for r in res),
             "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in res)}
            for spec, res in zip(specs, results)]


def section_e2e(args, env, log):
    epochs = args.e2e_epochs or (2 if args.quick else 15)
    rows = []
    for model in args.e2e_models.split(","):
        specs = [{"task": "e2e", "framework": fw, "model": model, "epochs": epochs, "root": args.data_root}
                 for fw in ("engine", "torch")]
        log(f"end to end: {model}, {epochs} epochs")
        results = rounds(specs, 1, env, log)
        for spec, res in zip(specs, results):
            r = res[0]
            rows.append({"model": model, "framework": spec["framework"], "epochs": epochs,
                         "program_seconds": r["program_seconds"], "process_seconds": r["process_wall_seconds"],
                         "peak_rss_mib": r["peak_rss_mib"], "accuracy": r["accuracy"], "costs": r["costs"],
                         "first_epoch_done_seconds": r["first_epoch_done_seconds"], "epoch_seconds": r["epoch_seconds"],
                         "load": r["load_before"]})
    return rows


def machine_info(env):
    info = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "cpu": platform.processor()}
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu"] = names[0] if names else info["cpu"]
    except OSError:
        pass
    info["load_at_start"] = os.getloadavg()
    probe = run_worker({"task": "import", "framework": "torch"}, env)  # threads and BLAS kernel as run
    info["runtime_torch_process"] = probe["runtime"]
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps; 2 epochs end to end")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections ({','.join(SECTIONS)})")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="folder for results.md/.json/.png")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the batch-100 step runs (default 3; quick 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="set OMP/OPENBLAS/MKL_NUM_THREADS for every run (default: leave as they are)")
    parser.add_argument("--unset-coretype", action="store_true",
                        help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the runs' environment")
    parser.add_argument("--data-root", default=str(ROOT.parent / "shared" / "data"),
                        help="MNIST root in torchvision's layout (<root>/MNIST/raw)")
    parser.add_argument("--e2e-models", default="mlp", help="models for the end-to-end runs (mlp,softmax)")
    parser.add_argument("--e2e-epochs", type=int, default=None, help="default 15; quick 2")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite results.md and results.png from the --out folder's results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        out = Path(args.out)
        results = json.loads((out / "results.json").read_text())
        markdown = report.markdown(results)
        (out / "results.md").write_text(markdown)
        plotted = report.plot(results, out / "results.png")
        print(markdown)
        print(f"rewritten: {out / 'results.md'}" + (f", {plotted}" if plotted else ""))
        return 0
    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")

    env = child_env(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    results = {"machine": machine_info(env), "args": vars(args)}
    n_rounds = args.rounds or (1 if args.quick else 3)
    if "steps" in sections:
        results["steps"] = section_steps(args, env, log, ("mlp", "softmax"), (100,), n_rounds, "steps")
        results["paired"] = section_paired(args, env, log, n_rounds)
    if "sweep" in sections:
        results["sweep"] = section_steps(args, env, log, ("mlp",), (32, 256, 1024), 1 if args.quick else 2, "sweep")
    if "overhead" in sections:
        results["overhead"] = section_overhead(args, env, log)
    if "import" in sections:
        results["import"] = section_import(args, env, log)
    if "e2e" in sections:
        results["e2e"] = section_e2e(args, env, log)
    results["machine"]["load_at_end"] = os.getloadavg()
    results["machine"]["wall_seconds"] = time.perf_counter() - started

    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    markdown = report.markdown(results)
    (out / "results.md").write_text(markdown)
    plotted = report.plot(results, out / "results.png")
    print()
    print(markdown)
    print(f"written: {out / 'results.md'}, {out / 'results.json'}" + (f", {plotted}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
