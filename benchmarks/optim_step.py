"""One Adam step over the lesson MLP's six parameter tensors, three ways, in ms per step.

    python -m benchmarks.optim_step [--steps 300] [--rounds 5] [--dtype float32]

- plain expressions: ``m = m + (1 - beta1) * (g - m)`` and so on, every result a new array;
- in place (the engine's): ``minitorch_relu.optim.adam.adam_update``, written with the in-place
  helpers of ``optim/_inplace.py``, which make and drop one temporary per product;
- in place into kept buffers: the same passes writing into one scratch array per parameter made
  once (what the optimizers did before, and what ``benchmarks/floor.py`` does).

The gradients are fixed random arrays (the step's arithmetic does not depend on their values).
Rounds interleave the three (the order rotates), and a time is the median over rounds of a
round's mean step time; a ratio is the median over rounds of the ratio of two variants' times in
the same round (neighbours in time see the same load on a shared machine). The thread settings are
printed with the result. An MNIST epoch at
batch 100 is 600 steps, so 1 ms a step is 0.6 s an epoch.
"""

import argparse
import os
import time

import numpy as np

from minitorch_relu.optim.adam import adam_update

SHAPES = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
HYPER = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)


def plain_expressions(params, grads, moments, step):
    lr, beta1, beta2, eps = HYPER["lr"], HYPER["beta1"], HYPER["beta2"], HYPER["eps"]
    for i, (g, (m, v)) in enumerate(zip(grads, moments)):
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        denom = np.sqrt(v) / (1 - beta2**step) ** 0.5 + eps
        params[i] = params[i] - lr / (1 - beta1**step) * m / denom
        moments[i] = (m, v)


def in_place(params, grads, moments, step):
    for p, g, (m, v) in zip(params, grads, moments):
        adam_update(p, g, m, v, None, step, weight_decay=0, amsgrad=False, maximize=False, **HYPER)


def in_place_kept_buffers(params, grads, moments, step, buffers={}):
    lr, beta1, beta2, eps = HYPER["lr"], HYPER["beta1"], HYPER["beta2"], HYPER["eps"]
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    for p, g, (m, v) in zip(params, grads, moments):
        buf = buffers.get(id(p))
        if buf is None:
            buf = buffers[id(p)] = np.empty_like(p)
        np.subtract(g, m, out=buf)
        buf *= 1 - beta1
        m += buf
        v *= beta2
        np.multiply(g, 1 - beta2, out=buf)
        buf *= g
        v += buf
        np.sqrt(v, out=buf)
        buf /= bias_correction2_sqrt
        buf += eps
        np.divide(m, buf, out=buf)
        buf *= -step_size
        p += buf


VARIANTS = {"plain expressions": plain_expressions, "in place (adam_update)": in_place,
            "in place into kept buffers": in_place_kept_buffers}


def thread_settings():
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")
    line = ", ".join(f"{n}={os.environ.get(n, 'unset')}" for n in names)
    try:
        from threadpoolctl import threadpool_info

        pools = "; ".join(f"{p['internal_api']} {p.get('version')} {p.get('architecture')} "
                          f"{p['num_threads']} threads" for p in threadpool_info())
    except ImportError:
        pools = "threadpoolctl not installed"
    return f"{line}\n{pools}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="Adam steps per variant per round")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s).astype(args.dtype) * 0.01 for s in SHAPES]
    state = {}
    for name in VARIANTS:
        params = [rng.normal(size=s).astype(args.dtype) for s in SHAPES]
        state[name] = (params, [(np.zeros_like(p), np.zeros_like(p)) for p in params], [0])

    times = {name: [] for name in VARIANTS}
    names = list(VARIANTS)
    for r in range(args.rounds + 1):  # round 0 warms up (first allocations, page faults) and is not kept
        for name in names[r % len(names):] + names[:r % len(names)]:
            params, moments, counter = state[name]
            start = time.perf_counter()
            for _ in range(args.steps):
                counter[0] += 1
                VARIANTS[name](params, grads, moments, counter[0])
            if r > 0:
                times[name].append((time.perf_counter() - start) / args.steps * 1e3)

    print(f"Adam, {args.dtype}, tensors {SHAPES}, {args.steps} steps x {args.rounds} rounds")
    print(thread_settings())
    base = np.array(times["in place (adam_update)"])
    for name, ms in times.items():
        median, ratio = np.median(ms), np.median(np.array(ms) / base)
        print(f"{name:<28} {median:6.3f} ms/step (rounds {min(ms):.3f}-{max(ms):.3f})  "
              f"{ratio:4.2f}x in place  {median * 0.6:5.2f} s per 600-step epoch")


if __name__ == "__main__":
    main()
