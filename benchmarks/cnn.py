"""One training epoch of the chapter's CNN on the CPU: this engine against torch, in the same run.

    python -m benchmarks.cnn                    # 600 steps of batch 100 each side (one epoch), 1 thread
    python -m benchmarks.cnn --steps 120 --threads 2
    python -m benchmarks.cnn --model deep       # the chapter's deep MLP (784-512-512-512-512-10) instead

The model is the chapter's: [Conv2d(1,32,3,1,1) ReLU MaxPool2d(2)] [Conv2d(32,64,3,1,1) ReLU MaxPool2d(2)]
flatten Linear(3136,10), Adam lr 1e-3, cross-entropy, float32, batches of MNIST-shaped random pixels
already in memory (the data pipeline is not what is measured). ``--model deep`` and ``--model dropout``
time the chapter's deep MLP (xavier_uniform_ weights; dropout adds Dropout(0.3) after each ReLU, in
training mode) the same way. Both sides run in this process, in
alternating blocks of ``--block`` steps (the order flips every pair), so a slow spell of the shared
machine hits both; the ratio printed is total engine time over total torch time, with the median of
the per-pair ratios beside it. The thread settings (torch's, NumPy's BLAS) are printed with it.
"""

import argparse
import statistics
import time

import numpy as np


def _limit_threads(threads):
    import torch

    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(threads)
        blas = ", ".join(f"{i['internal_api']} {i.get('architecture', '')} {i['num_threads']} threads"
                         for i in threadpool_info())
    except ImportError:
        blas = "threadpoolctl missing: BLAS threads not set"
    return f"torch {torch.get_num_threads()} threads ({torch.backends.mkldnn.is_available() and 'oneDNN' or 'no oneDNN'}); NumPy BLAS: {blas}"


MODELS = {"cnn": "CNN", "deep": "deep MLP", "dropout": "dropout MLP"}  # --model: its title


def _engine_stepper(x, y, name="cnn"):
    import minitorch_relu as mt
    from minitorch_relu import chapter

    mt.manual_seed(777)
    model = chapter.build(name)
    optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = mt.nn.CrossEntropyLoss()
    xs = [mt.tensor(b) for b in x]
    ys = [mt.tensor(b) for b in y]

    def step(i):
        optimizer.zero_grad()
        loss = loss_fn(model(xs[i % len(xs)]), ys[i % len(ys)])
        loss.backward()
        optimizer.step()
        return loss

    return step


def _torch_model(name):
    import torch

    if name == "cnn":
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
            torch.nn.Conv2d(32, 64, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2),
            torch.nn.Flatten(), torch.nn.Linear(3136, 10))
    widths, layers = [784, 512, 512, 512, 512, 10], []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i:
            layers += [torch.nn.ReLU()] + ([torch.nn.Dropout(0.3)] if name == "dropout" else [])
        layers.append(torch.nn.Linear(n_in, n_out))
        torch.nn.init.xavier_uniform_(layers[-1].weight)
    return torch.nn.Sequential(*layers)


def _torch_stepper(x, y, name="cnn"):
    import torch

    torch.manual_seed(777)
    model = _torch_model(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs = [torch.from_numpy(b).view(-1, 1, 28, 28) if name == "cnn" else torch.from_numpy(b) for b in x]
    ys = [torch.from_numpy(b) for b in y]

    def step(i):
        optimizer.zero_grad()
        loss = loss_fn(model(xs[i % len(xs)]), ys[i % len(ys)])
        loss.backward()
        optimizer.step()
        return loss

    return step


def _time_block(step, start, count):
    began = time.perf_counter()
    for i in range(start, start + count):
        step(i)
    return time.perf_counter() - began


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="timed steps per side (default 600: one epoch)")
    parser.add_argument("--block", type=int, default=30, help="steps per alternating block (default 30)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--model", choices=MODELS, default="cnn", help="the chapter's model to time (default cnn)")
    args = parser.parse_args(argv)

    settings = _limit_threads(args.threads)
    rng = np.random.default_rng(0)
    x = [rng.random((args.batch, 784), dtype=np.float32) for _ in range(8)]
    y = [rng.integers(0, 10, args.batch) for _ in range(8)]
    steppers = {"engine": _engine_stepper(x, y, args.model), "torch": _torch_stepper(x, y, args.model)}
    for step in steppers.values():
        _time_block(step, 0, args.warmup)

    totals = {"engine": 0.0, "torch": 0.0}
    ratios, done = [], 0
    pair = 0
    while done < args.steps:
        count = min(args.block, args.steps - done)
        order = ("engine", "torch") if pair % 2 == 0 else ("torch", "engine")
        times = {name: _time_block(steppers[name], done, count) for name in order}
        for name, seconds in times.items():
            totals[name] += seconds
        ratios.append(times["engine"] / times["torch"])
        done += count
        pair += 1
    per_epoch = {name: seconds * 600 / args.steps for name, seconds in totals.items()}
    print(f"{MODELS[args.model]} training, batch {args.batch}, float32, {args.steps} steps per side in {pair} alternating blocks")
    print(f"threads: {settings}")
    print(f"engine {per_epoch['engine']:.1f} s per 600-step epoch ({totals['engine'] / args.steps * 1e3:.1f} ms/step)")
    print(f"torch  {per_epoch['torch']:.1f} s per 600-step epoch ({totals['torch'] / args.steps * 1e3:.1f} ms/step)")
    ratio = totals["engine"] / totals["torch"]
    print(f"ratio engine/torch {ratio:.2f}x (median of per-block ratios {statistics.median(ratios):.2f}x); "
          f"target <= 1.0x: {'PASS' if ratio <= 1.0 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
