"""One measurement in a fresh process: ``python -m benchmarks.worker '<json spec>'`` prints one JSON line.

Every timed run gets its own interpreter, so import time and peak RSS are those of that run alone,
and torch's thread pool never shares a process with NumPy's BLAS threads.

Spec keys: ``task`` (step, paired, overhead, import, e2e), ``framework`` (engine, floor, torch, torch-noforeach)
and the task's own options (see each ``task_*`` function).
"""

import json
import os
import resource
import statistics
import sys
import time

T_START = time.perf_counter()  # before anything heavy is imported


# ----- what ran: threads and BLAS kernel ----------------------------------------------------------
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def runtime_info(framework):
    info = {"env": {k: os.environ.get(k) for k in THREAD_VARS}}
    try:
        from threadpoolctl import threadpool_info

        info["pools"] = [
            {k: pool.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
            for pool in threadpool_info()
        ]
    except ImportError:
        info["pools"] = "threadpoolctl not installed"
    if framework.startswith("torch"):
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch_version"] = torch.__version__
    return info


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# ----- the models, built the same way on each side ------------------------------------------------
SIZES = {"mlp": (784, 256, 256, 10), "softmax": (784, 10)}


def engine_model(model):
    import minitorch_relu as mt
    from minitorch_relu.training import build_model

    mt.manual_seed(777)
    return build_model(model)  # the lesson's model: normal_ weights, nn.Linear's default biases


def torch_model(model):
    import torch

    torch.manual_seed(777)
    sizes, layers = SIZES[model], []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(n_in, n_out))
    net = torch.nn.Sequential(*layers)
    for layer in net[::2]:
        torch.nn.init.normal_(layer.weight)  # as the lesson: weights only
    return net


def fake_mnist(batch, n_batches, seed=0):
    """Batches shaped like the lesson's (pixels in [0, 1], float32; labels int64), already in memory."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = rng.random((n_batches, batch, 784), dtype=np.float32)
    ys = rng.integers(0, 10, (n_batches, batch))
    return list(xs), list(ys)


# ----- task: compute-only training steps ----------------------------------------------------------
def step_runner(framework, model, xs, ys):
    """A function doing one forward + backward + Adam step on batch i."""
    if framework in ("engine", "engine-1thread"):  # (the second runs with OPENBLAS_NUM_THREADS=1)
        import minitorch_relu as mt

        net = engine_model(model)
        opt = mt.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = mt.nn.CrossEntropyLoss()
        xs, ys = [mt.tensor(x) for x in xs], [mt.tensor(y) for y in ys]

        def step(i):
            opt.zero_grad()
            loss = loss_fn(net(xs[i]), ys[i])
            loss.backward()
            opt.step()

        return step
    if framework in ("floor", "floor-inplace"):
        from benchmarks.floor import NumpyMLP

        net = engine_model(model)  # the same starting weights as the engine
        floor = NumpyMLP([p.data.copy() for p in net.parameters()], lr=1e-3, inplace_relu=framework != "floor")
        return lambda i: floor.step(xs[i], ys[i])
    if framework in ("torch", "torch-noforeach"):
        import torch

        net = torch_model(model)
        foreach = None if framework == "torch" else False  # None: torch's default (foreach on CPU lists)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=foreach)
        loss_fn = torch.nn.CrossEntropyLoss()
        xs, ys = [torch.from_numpy(x) for x in xs], [torch.from_numpy(y) for y in ys]

        def step(i):
            opt.zero_grad()
            loss = loss_fn(net(xs[i]), ys[i])
            loss.backward()
            opt.step()

        return step
    raise ValueError(f"unknown framework {framework!r}")


def task_step(spec):
    """Seconds per ``steps`` training steps, ``repeats`` times after ``warmup`` steps.

    A repeat that runs past ``max_seconds`` (a badly overloaded machine) stops early and is scaled
    up to ``steps``; ``steps_done`` says how many steps each repeat really timed.
    """
    framework, model, batch = spec["framework"], spec["model"], spec["batch"]
    steps, repeats, warmup = spec.get("steps", 600), spec.get("repeats", 3), spec.get("warmup", 50)
    max_seconds = spec.get("max_seconds", 30.0)
    n_batches = max(1, min(steps, (4 << 20) // (batch * 784)))  # ~16 MB of distinct batches, cycled
    xs, ys = fake_mnist(batch, n_batches)
    step = step_runner(framework, model, xs, ys)
    for i in range(warmup):
        step(i % n_batches)
    times, cpu_times, steps_done = [], [], []  # wall; CPU of all this process's threads (waiting, spinning)
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(steps):
            step(i % n_batches)
            if i % 10 == 9 and time.perf_counter() - start > max_seconds:
                break
        done = i + 1
        times.append((time.perf_counter() - start) * steps / done)
        cpu_times.append((time.process_time() - cpu_start) * steps / done)
        steps_done.append(done)
    return {"times": times, "cpu_times": cpu_times, "steps_done": steps_done, "median": statistics.median(times)}


def task_paired(spec):
    """The engine against the plain-NumPy floor in one process, alternating blocks of ``block`` steps.

    Both see the same moments of a shared machine (and the same BLAS threads), so the ratio of each
    pair of neighbouring blocks is free of the slow and fast spells that separate processes land in.
    Returns per-block seconds scaled to 600 steps, and the median of the per-pair ratios.
    """
    model, batch = spec.get("model", "mlp"), spec["batch"]
    block, pairs, warmup = spec.get("block", 100), spec.get("pairs", 12), spec.get("warmup", 50)
    n_batches = max(1, min(block, (4 << 20) // (batch * 784)))
    xs, ys = fake_mnist(batch, n_batches)
    runners = {fw: step_runner(fw, model, xs, ys) for fw in ("engine", "floor")}
    for step in runners.values():
        for i in range(warmup):
            step(i % n_batches)
    times = {fw: [] for fw in runners}
    for pair in range(pairs):
        order = ("engine", "floor") if pair % 2 == 0 else ("floor", "engine")  # neither always goes first
        for fw in order:
            step, start = runners[fw], time.perf_counter()
            for i in range(block):
                step(i % n_batches)
            times[fw].append((time.perf_counter() - start) * 600 / block)
    ratios = [e / f for e, f in zip(times["engine"], times["floor"])]
    return {"times": times, "ratios": ratios, "median_ratio": statistics.median(ratios)}


# ----- task: per-op overhead of the autograd machinery --------------------------------------------
def task_overhead(spec):
    """Microseconds per 1x1 add: forward alone (graph recorded), and forward + backward."""
    framework, n, repeats = spec["framework"], spec.get("n", 20000), spec.get("repeats", 5)
    if framework == "engine":
        import minitorch_relu as mt

        a = mt.tensor([[1.0]], requires_grad=True)
        b = mt.tensor([[2.0]], requires_grad=True)
        g = mt.tensor([[1.0]])
    elif framework.startswith("torch"):
        import torch

        a = torch.tensor([[1.0]], requires_grad=True)
        b = torch.tensor([[2.0]], requires_grad=True)
        g = torch.tensor([[1.0]])
    else:
        raise ValueError(f"overhead: unknown framework {framework!r}")

    def forward():
        for _ in range(n):
            a + b

    def forward_backward():
        for _ in range(n):
            (a + b).backward(g)

    result = {}
    for name, fn in (("forward_us", forward), ("forward_backward_us", forward_backward)):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) / n * 1e6)
        result[name] = statistics.median(times)
    return result


# ----- task: import time --------------------------------------------------------------------------
def task_import(spec):
    """Seconds to import the package (this process has imported nothing heavy yet)."""
    name = {"engine": "minitorch_relu", "torch": "torch"}[spec["framework"]]
    start = time.perf_counter()
    __import__(name)
    return {"seconds": time.perf_counter() - start}


# ----- task: the lesson's program end to end ------------------------------------------------------
def task_e2e(spec):
    """Load MNIST, train ``epochs`` epochs, evaluate: the lesson's program, timed as a whole."""
    from benchmarks import lesson

    run = {"engine": lesson.run_engine, "torch": lesson.run_torch}[spec["framework"]]
    start = time.perf_counter()
    {"engine": lesson.import_engine, "torch": lesson.import_torch}[spec["framework"]]()
    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = run(spec["model"], spec["epochs"], spec["root"])
    result["import_seconds"] = import_seconds
    result["program_seconds"] = time.perf_counter() - start
    result["process_seconds"] = time.perf_counter() - T_START
    return result


TASKS = {"step": task_step, "paired": task_paired, "overhead": task_overhead, "import": task_import, "e2e": task_e2e}


def main(argv=None):
    spec = json.loads((argv or sys.argv[1:])[0])
    result = TASKS[spec["task"]](spec)
    result["peak_rss_mib"] = peak_rss_mib()
    result["runtime"] = runtime_info(spec.get("framework", "engine"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
