"""Run the programs whose output the docs quote, under two simulated machines, and keep their logs.

    python docs/make_logs.py [--machines=avx512-t1,...] [NAME ...]   # default: every program, both machines

Each program runs as an AVX-512 machine and as an AVX2 machine, both with one BLAS thread
(parity/profiles.py: avx512-t1, avx2-t1); the output goes to docs/logs/NAME-PROFILE.txt under a
header naming the command and the profile. The docs copy their numbers from these files and say
which digits differ between the two.
"""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from parity.profiles import profiles  # noqa: E402

DATA = os.environ.get("MINITORCH_RELU_DATA") or str(REPO.parent / "shared" / "data")
CLI = [sys.executable, "-m", "minitorch_relu"]
PROGRAMS = {
    "train-softmax": CLI + ["train", "--data-dir", DATA, "--raw-test-pixels", "--quiet"],
    "train-mlp": CLI + ["train", "--model", "mlp", "--data-dir", DATA, "--quiet"],
    "demo-vanishing": CLI + ["demo", "vanishing", "--data-dir", DATA, "--out", "out/docs"],
    "demo-dying-relu": CLI + ["demo", "dying-relu", "--out", "out/docs"],
    "demo-optimizers": CLI + ["demo", "optimizers", "--out", "out/docs"],
    "demo-compare": CLI + ["demo", "compare", "--data-dir", DATA, "--out", "out/docs"],
}
# One epoch of the lesson's MLP per optimizer (docs/optimizers.md); L-BFGS takes minutes an epoch.
for name, lr, extra in [("SGD", "0.01", []), ("Adam", "0.001", []), ("AdamW", "0.001", []), ("Adagrad", "0.01", []),
                        ("Adadelta", "1.0", []), ("RMSprop", "0.01", []), ("ASGD", "0.01", []), ("Rprop", "0.01", [])]:
    PROGRAMS[f"optim-{name}"] = CLI + ["train", "--model", "mlp", "--epochs", "1", "--optimizer", name, "--lr", lr,
                                       "--data-dir", DATA, "--quiet", *extra]
MACHINES = ["avx512-t1", "avx2-t1"]


def main(names):
    machines = MACHINES
    if names and names[0].startswith("--machines="):
        machines, names = names[0].split("=", 1)[1].split(","), names[1:]
    table = profiles()
    out = REPO / "docs" / "logs"
    out.mkdir(exist_ok=True)
    for name in names or PROGRAMS:
        for machine in machines:
            env = dict(os.environ, **table[machine], OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
            proc = subprocess.run(PROGRAMS[name], cwd=REPO, env=env, capture_output=True, text=True)
            shown = " ".join(Path(a).name if a == sys.executable else a for a in PROGRAMS[name])
            header = (f"# {shown}\n# profile {machine} (parity/profiles.py): "
                      f"{' '.join(f'{k}={v}' for k, v in table[machine].items())}\n"
                      f"# {date.today()}, exit {proc.returncode}\n")
            (out / f"{name}-{machine}.txt").write_text(header + proc.stdout + proc.stderr)
            print(f"{name} on {machine}: exit {proc.returncode}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
