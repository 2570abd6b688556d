"""GPU benchmark: this engine on CuPy against torch eager on CUDA, training the lesson's MLP.

The model is MLP 784-256-256-10 (ReLU), Adam lr=0.001, float32, cross-entropy; an "epoch" is
60,000 MNIST-shaped samples (uint8 pixels scaled to [0, 1], labels 0..9) cut in shuffled batches
with drop_last — 600 steps at batch 100, 7 steps at batch 8192. Random pixels stand in for MNIST: the
speed of these layers does not depend on the values. Both sides keep the whole set on the GPU, cut
batches there, and sum the epoch's cost on the GPU, reading it once at the end (like the lesson's
avg_cost), so neither pays a host round trip per step.

Each timing is the median of a few epochs after a warm-up epoch (kernel compilation, cuBLAS setup);
the GPU is synchronized before every timer is read.

    python benchmarks/gpu_bench.py [--out FILE]      # on a machine with CuPy, torch and a GPU
    python benchmarks/gpu_bench.py --dry-run          # anywhere: numpy vs torch CPU, a few steps

Targets (issue 4): at batch 8192 this engine's throughput >= 70% of torch's; at batch 100 its step
time <= 1.5x torch's.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

SAMPLES = 60_000
TARGET_THROUGHPUT_RATIO = 0.70  # engine / torch samples per second, at the large batch
TARGET_STEP_RATIO = 1.5  # engine / torch step time, at batch 100


def make_data(seed=0, samples=SAMPLES):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(samples, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=samples).astype(np.int64)
    return images, labels


# ----- this engine ---------------------------------------------------------------------------------
class EngineRunner:
    def __init__(self, backend, images, labels, seed=777):
        import minitorch_relu as mt
        from minitorch_relu.data.loader import DataLoader

        self.mt, self.backend = mt, backend
        mt.manual_seed(seed)
        self.model = mt.nn.Sequential(mt.nn.Linear(784, 256), mt.nn.ReLU(), mt.nn.Linear(256, 256), mt.nn.ReLU(),
                                      mt.nn.Linear(256, 10)).to(backend)
        self.optimizer = mt.optim.Adam(self.model.parameters(), lr=0.001)
        self.loss_fn = mt.nn.CrossEntropyLoss()
        self.images, self.labels = images, labels
        self._loader_cache = {}
        self._loader = lambda batch: DataLoader((images, labels), batch_size=batch, shuffle=True, drop_last=True,
                                                seed=0, backend=backend)

    def loader(self, batch):
        if batch not in self._loader_cache:  # one upload per batch size, outside the timed epochs
            self._loader_cache[batch] = self._loader(batch)
        return self._loader_cache[batch]

    def epoch(self, batch, max_steps=None):
        """Train one epoch; returns (seconds, steps, average cost)."""
        mt = self.mt
        loader = self.loader(batch)
        self.sync()
        start = time.perf_counter()
        total, steps = None, 0
        for x, y in loader:
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            with mt.no_grad():
                total = loss.detach() if total is None else total + loss.detach()
            steps += 1
            if max_steps and steps >= max_steps:
                break
        cost = total.item() / steps  # the one read of the epoch (it also waits for the GPU)
        self.sync()
        return time.perf_counter() - start, steps, cost

    def sync(self):
        if self.backend == "cupy":
            import cupy

            cupy.cuda.Device().synchronize()


# ----- torch eager ---------------------------------------------------------------------------------
class TorchRunner:
    def __init__(self, device, images, labels, seed=777):
        import torch

        self.torch, self.device = torch, device
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                         torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.001)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.images = torch.from_numpy(images).to(device)  # uploaded once, like the engine's loader
        self.labels = torch.from_numpy(labels).to(device)
        self.generator = np.random.default_rng(0)

    def epoch(self, batch, max_steps=None):
        torch = self.torch
        n = len(self.labels)
        self.sync()
        start = time.perf_counter()
        # Inside the timer, as the engine's loader draws and uploads its order inside its epoch.
        order = torch.from_numpy(self.generator.permutation(n)).to(self.device)  # one transfer per epoch
        total, steps = torch.zeros((), device=self.device), 0
        for begin in range(0, n - n % batch, batch):
            index = order[begin:begin + batch]
            x = self.images[index].reshape(len(index), -1).float() / 255
            y = self.labels[index]
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += loss.detach()
            steps += 1
            if max_steps and steps >= max_steps:
                break
        cost = total.item() / steps
        self.sync()
        return time.perf_counter() - start, steps, cost

    def sync(self):
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()


# ----- measuring and reporting ---------------------------------------------------------------------
def summarize(times, steps, batch, cost):
    epoch_s = statistics.median(times)
    return {"epoch_s": epoch_s, "steps": steps, "step_ms": 1000 * epoch_s / steps,
            "samples_per_s": steps * batch / epoch_s, "cost": cost}


def measure_pair(engine, reference, batch, repeats, max_steps):
    """Median epoch of each side; the two alternate, so a slow spell of the machine hits both."""
    for runner in (engine, reference):
        runner.epoch(batch, max_steps=max_steps if max_steps else 50)  # warm-up
    times = {engine: [], reference: []}
    for _ in range(repeats):
        for runner in (engine, reference):
            seconds, steps, cost = runner.epoch(batch, max_steps=max_steps)
            times[runner].append((seconds, steps, cost))
    return [summarize([t for t, _, _ in times[r]], times[r][-1][1], batch, times[r][-1][2])
            for r in (engine, reference)]


def report(rows, engine_name, torch_name, header_lines):
    lines = list(header_lines)
    lines += ["", f"| batch | steps | {engine_name} ms/step | {torch_name} ms/step | {engine_name} samples/s | "
                  f"{torch_name} samples/s | throughput ratio | step-time ratio |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for batch, engine, torch_ in rows:
        lines.append(f"| {batch} | {engine['steps']} | {engine['step_ms']:.3f} | {torch_['step_ms']:.3f} | "
                     f"{engine['samples_per_s']:,.0f} | {torch_['samples_per_s']:,.0f} | "
                     f"{engine['samples_per_s'] / torch_['samples_per_s']:.2f} | "
                     f"{engine['step_ms'] / torch_['step_ms']:.2f} |")
    (small, small_e, small_t), (large, large_e, large_t) = rows[0], rows[-1]
    throughput = large_e["samples_per_s"] / large_t["samples_per_s"]
    step_ratio = small_e["step_ms"] / small_t["step_ms"]
    ok1, ok2 = throughput >= TARGET_THROUGHPUT_RATIO, step_ratio <= TARGET_STEP_RATIO
    lines += ["",
              f"- target, batch {large}: throughput >= {TARGET_THROUGHPUT_RATIO:.0%} of torch's: "
              f"{throughput:.0%} -> {'PASS' if ok1 else 'FAIL'}",
              f"- target, batch {small}: step time <= {TARGET_STEP_RATIO}x torch's: "
              f"{step_ratio:.2f}x -> {'PASS' if ok2 else 'FAIL'}"]
    return "\n".join(lines) + "\n", ok1 and ok2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="check the script anywhere: engine on numpy vs torch on CPU, a few steps, one repeat")
    parser.add_argument("--engine-backend", default=None, help="engine backend (default: cupy; numpy in --dry-run)")
    parser.add_argument("--torch-device", default=None, help="torch device (default: cuda; cpu in --dry-run)")
    parser.add_argument("--batches", default="100,8192", help="comma-separated batch sizes (first small, last large)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per measurement (default 5)")
    parser.add_argument("--out", default=os.environ.get("GPU_BENCH_OUT"),
                        help="write the markdown table here too (default: $GPU_BENCH_OUT)")
    args = parser.parse_args(argv)

    engine_backend = args.engine_backend or ("numpy" if args.dry_run else "cupy")
    torch_device = args.torch_device or ("cpu" if args.dry_run else "cuda")
    repeats = args.repeats or (1 if args.dry_run else 5)
    batches = [int(b) for b in args.batches.split(",")]
    max_steps = 5 if args.dry_run else None
    if engine_backend == "strict":  # the tests' stand-in device: a dry run of the device code without a GPU
        from minitorch_relu_testing import register_strict_backend

        register_strict_backend()

    import torch

    if torch_device.startswith("cpu"):
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    images, labels = make_data(samples=SAMPLES if not args.dry_run else 20 * max(batches))
    engine = EngineRunner(engine_backend, images, labels)
    reference = TorchRunner(torch_device, images, labels)

    rows = []
    for batch in batches:
        steps_per_epoch = max_steps or len(labels) // batch
        # at least ~100 timed steps per side: a large batch's epoch is only a few steps
        epochs = max(repeats, -(-100 // steps_per_epoch)) if not args.dry_run else repeats
        rows.append((batch, *measure_pair(engine, reference, batch, epochs, max_steps)))

    device = torch.cuda.get_device_name() if torch_device.startswith("cuda") else "CPU"
    versions = f"numpy {np.__version__}, torch {torch.__version__}"
    if engine_backend == "cupy":
        import cupy

        versions += f", cupy {cupy.__version__}"
    header = [f"## GPU benchmark: minitorch_relu ({engine_backend}) vs torch eager ({torch_device})", "",
              f"MLP 784-256-256-10, Adam lr=0.001, float32; {len(labels):,} samples per epoch, shuffled, drop_last; "
              f"median of {repeats}+ epochs per side (>= 100 steps), alternating sides, after a warm-up. "
              f"Device: {device}. {versions}. torch threads: {torch.get_num_threads()}."]
    if args.dry_run:
        header.append("DRY RUN: a few steps per epoch on the CPU; the numbers say nothing about the GPU targets.")
    text, passed = report(rows, "engine", "torch", header)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0 if passed or args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
