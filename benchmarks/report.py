"""Turn the benchmark's results dict into a markdown report (with the targets) and a PNG plot."""

import statistics

# Targets of issue 5, on the 2-core CPU, float32.
TARGET_VS_TORCH = 1.0  # engine epoch time / torch's, MLP at batch 100
TARGET_VS_FLOOR = 1.15  # engine epoch time / the plain-NumPy floor's
TARGET_E2E_SPEEDUP = 3.0  # torch lesson script time / engine's
TARGET_RSS_SHARE = 0.5  # engine peak RSS / torch's, training run
TARGET_IMPORT_S = 0.2  # seconds to import minitorch_relu

LABELS = {"engine": "minitorch_relu", "engine-1thread": "minitorch_relu, 1 BLAS thread", "floor": "plain NumPy floor", "floor-inplace": "floor, ReLU in place",
          "torch": "torch (default Adam, foreach)", "torch-noforeach": "torch (Adam foreach=False)"}


def _verdict(ok):
    return "" if ok is None else "met" if ok else "NOT met"


def _threads_line(runtime):
    pools = runtime.get("pools")
    if isinstance(pools, list):
        pools = ", ".join(f"{p['internal_api']} {p.get('version')} kernel {p.get('architecture')} "
                          f"threads {p.get('num_threads')}" for p in pools)
    env = ", ".join(f"{k}={v}" for k, v in runtime.get("env", {}).items())
    torch = f"; torch.get_num_threads()={runtime['torch_threads']}" if "torch_threads" in runtime else ""
    return f"{pools}{torch}; env: {env}"


def _by(rows, **match):
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def markdown(results):
    m = results["machine"]
    lines = ["# minitorch_relu vs torch on the CPU", "",
             f"- date: {m['date']}; wall time of the run: {m.get('wall_seconds', 0):.0f} s",
             f"- machine: {m['cpu']}, {m['cpus']} CPUs, {m['platform']}, Python {m['python']}",
             f"- load average at start / end: {m['load_at_start'][0]:.2f} / {m.get('load_at_end', [0])[0]:.2f} "
             "(the machine is shared; each row also shows the median 1-minute load during its runs)",
             f"- torch process: {_threads_line(m['runtime_torch_process'])}"]
    if max(m["load_at_start"][0], m.get("load_at_end", [0])[0]) > m["cpus"]:
        lines.append(f"- **warning**: the load average exceeded the {m['cpus']} CPUs. BLAS and OpenMP threads that wait "
                     "for a descheduled partner can then make small-matrix work many times slower, for torch and "
                     "NumPy alike; compare runs with `--threads 1`, or rerun when the machine is quiet.")
    checks = []
    steps = results.get("steps", [])
    if steps:
        engine_rt = _by(steps, framework="engine")["runtime"]
        lines += [f"- engine process: {_threads_line(engine_rt)}", "",
                  "## 1. Training step, compute only (forward + backward + Adam, float32, batches in memory)", "",
                  "Seconds per epoch of 600 steps (median of all timed epochs); ratio = engine / that row. "
                  "CPU s counts every thread of the process: above the wall time, threads ran in parallel or spun. "
                  "Batch 1024 times 150 steps and scales to 600; '(cut)': a run passed the time cap and was scaled "
                  "from fewer steps.", "",
                  "| model | batch | framework | s / 600 steps | engine / this | CPU s / 600 steps | runs | load |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
        for row in steps + results.get("sweep", []):
            # runs = timed epochs pooled; "(cut)" = some ran past the time cap and were scaled from fewer steps
            engine = _by(steps + results.get("sweep", []), model=row["model"], batch=row["batch"], framework="engine")
            ratio = engine["epoch_seconds"] / row["epoch_seconds"]
            lines.append(f"| {row['model']} | {row['batch']} | {LABELS[row['framework']]} | {row['epoch_seconds']:.3f} "
                         f"| {ratio:.2f}x | {row['cpu_epoch_seconds']:.3f} | {row['runs']}{' (cut)' if row['cut'] else ''} "
                         f"| {row['load']:.1f} |")
        e = _by(steps, model="mlp", batch=100, framework="engine")["epoch_seconds"]
        for fw in ("torch", "torch-noforeach"):
            other = _by(steps, model="mlp", batch=100, framework=fw)["epoch_seconds"]
            checks.append((f"MLP epoch at batch 100 vs {LABELS[fw]}", f"{e / other:.2f}x", f"<= {TARGET_VS_TORCH}x",
                           e / other <= TARGET_VS_TORCH))
        one = _by(steps, model="mlp", batch=100, framework="engine-1thread")
        if one:
            torch_default = _by(steps, model="mlp", batch=100, framework="torch")["epoch_seconds"]
            ratio = one["epoch_seconds"] / torch_default
            checks.append((f"(same, engine with 1 BLAS thread vs {LABELS['torch']} with its default threads)",
                           f"{ratio:.2f}x", "(for scale)", None))
        paired = results.get("paired")
        if paired:
            checks.append((f"MLP epoch at batch 100 vs plain-NumPy floor, paired in one process "
                           f"(median of {paired['pairs']} block ratios)", f"{paired['median_ratio']:.2f}x",
                           f"<= {TARGET_VS_FLOOR}x", paired["median_ratio"] <= TARGET_VS_FLOOR))
        # Separate processes land in different slow and fast spells of a shared machine: for scale only
        # when the paired measurement ran.
        floor = _by(steps, model="mlp", batch=100, framework="floor")["epoch_seconds"]
        e_cpu = _by(steps, model="mlp", batch=100, framework="engine")["cpu_epoch_seconds"]
        floor_cpu = _by(steps, model="mlp", batch=100, framework="floor")["cpu_epoch_seconds"]
        for name, ratio in (("separate processes, wall time", e / floor), ("separate processes, CPU time", e_cpu / floor_cpu)):
            checks.append((f"(same, {name})", f"{ratio:.2f}x", "(for scale)" if paired else f"<= {TARGET_VS_FLOOR}x",
                           None if paired else ratio <= TARGET_VS_FLOOR))
        if paired:
            lines += ["", f"Engine and floor in one process, alternating blocks of {paired['block']} steps (MLP, batch "
                          f"100): median {paired['engine_epoch_seconds']:.3f} s and {paired['floor_epoch_seconds']:.3f} s "
                          f"per 600 steps; per-pair ratios from {min(paired['ratios']):.2f}x to "
                          f"{max(paired['ratios']):.2f}x, median {paired['median_ratio']:.2f}x (load {paired['load']:.1f})."]
        inplace = _by(steps, model="mlp", batch=100, framework="floor-inplace")
        if inplace:
            lines += ["", f"(Against the floor with ReLU in place, a trick the engine's ops do not play: "
                          f"{e / inplace['epoch_seconds']:.2f}x.)"]
        lines += [""]
    if "overhead" in results:
        lines += ["## 4. Per-op overhead: a 1x1 add (µs per op)", "",
                  "| framework | forward (graph recorded) | forward + backward |", "| --- | ---: | ---: |"]
        for row in results["overhead"]:
            lines.append(f"| {'minitorch_relu' if row['framework'] == 'engine' else 'torch'} | {row['forward_us']:.1f} | {row['forward_backward_us']:.1f} |")
        lines += [""]
    if "import" in results:
        lines += ["## 3a. Import time (fresh interpreter, median)", "", "| package | seconds | RSS after import (MiB) |",
                  "| --- | ---: | ---: |"]
        for row in results["import"]:
            name = "minitorch_relu" if row["framework"] == "engine" else "torch"
            lines.append(f"| {name} | {row['seconds']:.3f} | {row['peak_rss_mib']:.0f} |")
        engine_import = _by(results["import"], framework="engine")["seconds"]
        checks.append(("import minitorch_relu", f"{engine_import:.3f} s", f"<= {TARGET_IMPORT_S} s",
                       engine_import <= TARGET_IMPORT_S))
        lines += [""]
    if "e2e" in results:
        lines += ["## 2 and 3b. The lesson's program end to end (load MNIST, train, evaluate)", "",
                  "engine: `minitorch-relu train --raw-test-pixels`; torch: the lesson's script (torchvision MNIST + "
                  "ToTensor, torch DataLoader), run in this package's worker process. Program time: loading the data, "
                  "training, evaluating, after the imports; process time is the whole process, "
                  "from the interpreter's start to its exit. The speed-up target is judged on program time.", "",
                  "| model | framework | epochs | program s | process s | load + epoch 1 s | later epochs, median s "
                  "| peak RSS (MiB) | first / last cost | accuracy (raw test pixels) | load |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
        for row in results["e2e"]:
            costs = row["costs"]
            cost_text = f"{costs[0]:.3f} / {costs[-1]:.3f}" if costs else "-"
            later = f"{statistics.median(row['epoch_seconds']):.2f}" if row["epoch_seconds"] else "-"
            lines.append(f"| {row['model']} | {'minitorch_relu' if row['framework'] == 'engine' else 'torch script'} "
                         f"| {row['epochs']} | {row['program_seconds']:.1f} | {row['process_seconds']:.1f} "
                         f"| {row['first_epoch_done_seconds']:.1f} | {later} | {row['peak_rss_mib']:.0f} | {cost_text} | "
                         f"{row['accuracy']:.4f} | {row['load']:.1f} |")
        for model in sorted({row["model"] for row in results["e2e"]}):
            e, t = _by(results["e2e"], model=model, framework="engine"), _by(results["e2e"], model=model, framework="torch")
            speedup = t["program_seconds"] / e["program_seconds"]
            checks.append((f"{model} end to end, torch script / engine ({e['epochs']} epochs)", f"{speedup:.1f}x",
                           f">= {TARGET_E2E_SPEEDUP}x", speedup >= TARGET_E2E_SPEEDUP))
            share = e["peak_rss_mib"] / t["peak_rss_mib"]
            checks.append((f"{model} training run peak RSS, engine / torch", f"{share:.0%}",
                           f"<= {TARGET_RSS_SHARE:.0%}", share <= TARGET_RSS_SHARE))
        lines += [""]
    if checks:
        lines += ["## Targets", "", "| target | measured | goal | |", "| --- | ---: | ---: | --- |"]
        lines += [f"| {name} | {value} | {goal} | {_verdict(ok)} |" for name, value, goal, ok in checks]
        lines += [""]
    return "\n".join(lines)


def plot(results, path):
    """Seconds per 600 steps against batch size (MLP), and end-to-end seconds; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [r for r in results.get("steps", []) + results.get("sweep", []) if r["model"] == "mlp"]
    e2e = results.get("e2e", [])
    if not rows and not e2e:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    for fw in ("engine", "engine-1thread", "floor", "floor-inplace", "torch", "torch-noforeach"):
        points = sorted((r["batch"], r["epoch_seconds"]) for r in rows if r["framework"] == fw)
        if points:
            ax.plot(*zip(*points), marker="o", label=LABELS[fw], linestyle="--" if fw.startswith("floor") else "-")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds per 600 training steps")
    ax.set_title("MLP 784-256-256-10, compute only (lower is better)")
    ax.grid(True, which="both", alpha=0.3)
    if rows:
        ax.legend(fontsize=8)
    ax = axes[1]
    if e2e:
        labels = [f"{r['model']}\n{'engine' if r['framework'] == 'engine' else 'torch'}" for r in e2e]
        colors = ["tab:blue" if r["framework"] == "engine" else "tab:red" for r in e2e]
        ax.bar(labels, [r["program_seconds"] for r in e2e], color=colors)
        ax.set_ylabel("seconds")
        ax.set_title(f"the lesson's program, {e2e[0]['epochs']} epochs, end to end")
    else:
        ax.axis("off")
    m = results["machine"]
    threads = m["runtime_torch_process"].get("torch_threads")
    fig.suptitle(f"{m['date']}, {m['cpu']} ({m['cpus']} CPUs), threads per process: {threads}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
