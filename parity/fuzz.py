"""A differential fuzzer: small random programs run in this engine and in torch, step by step.

A program is data (a list of steps), drawn by hypothesis. ``run_program`` interprets it twice, once
per engine, through a small adapter (``ENGINE``, ``TORCH``), and compares after every step: whether
each raised, the result's shape, dtype, values, ``requires_grad`` and ``is_leaf``; and at the end
the gradients of every leaf (and of tensors that called ``retain_grad``) after ``backward``.

Steps cover the engine's ops on random shapes that broadcast, the dtypes float32, float64, int64
and bool, 0-d tensors and Python numbers, indexing (ints, slices, index arrays, boolean masks and
their mixes), in-place ops (inside and outside ``no_grad``), hooks, ``retain_grad`` and a second
backward. Operands are named by position modulo the pool of values made so far, so every drawn
program is runnable.

A disagreement that is known and explained is listed in ``KNOWN`` (and in parity/README.md): the
program stops there and counts as listed. Anything else fails with the program and the step.
"""

import contextlib

import numpy as np
import torch
from hypothesis import strategies as st

import minitorch_relu as mt

DTYPES = ["float32", "float64", "int64", "bool"]
TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}
# float32: chains of up to 8 ops, each off by an ulp at most (1.2e-7), with cancellation in sums
# and subtractions of values up to ~10: 2e-5 covers 8 ops x ~20 ulps of ~10 (measured worst case over
# 100,000 programs: see parity/README.md). float64 likewise, 1e-10.


class Disagreement(AssertionError):
    pass


# ----- the two engines behind one interface ---------------------------------------------------------
class _Engine:
    name = "engine"

    def tensor(self, array, requires_grad):
        return mt.tensor(array, requires_grad=requires_grad)

    def no_grad(self):
        return mt.no_grad()

    def to_numpy(self, x):
        return x.numpy()

    def dtype_name(self, x):
        return np.dtype(x.dtype).name

    def index_tensor(self, array):
        return mt.tensor(array)

    def matmul(self, a, b):
        return a @ b

    def register_hook(self, x, hook):
        x.register_hook(hook)


class _Torch:
    name = "torch"

    def tensor(self, array, requires_grad):
        return torch.tensor(array, requires_grad=requires_grad)

    def no_grad(self):
        return torch.no_grad()

    def to_numpy(self, x):
        return x.detach().numpy()

    def dtype_name(self, x):
        return str(x.dtype).replace("torch.", "")

    def index_tensor(self, array):
        return torch.tensor(array)

    def matmul(self, a, b):
        return a @ b

    def register_hook(self, x, hook):
        _ = x.grad_fn  # torch 2.14 can segfault without this (pytorch/pytorch#196459)
        x.register_hook(hook)


ENGINE, TORCH = _Engine(), _Torch()


# ----- what a step does, given the pool of values -----------------------------------------------------
def _number(spec):
    kind, value = spec
    return {"int": int(value), "float": float(value), "bool": bool(value % 2)}[kind]


UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(),
    "max": lambda x: x.max(),
    "flatten": lambda x: x.reshape(-1),
    "clone": lambda x: x.clone(),
    "detach": lambda x: x.detach(),
    "double": lambda x: x.double(),
    "float": lambda x: x.float(),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "gt": lambda a, b: a > b,
}

INPLACE = {
    "add_": lambda x, o: x.add_(o),
    "sub_": lambda x, o: x.sub_(o),
    "mul_": lambda x, o: x.mul_(o),
    "div_": lambda x, o: x.div_(o),
    "iadd": lambda x, o: x.__iadd__(o),
    "imul": lambda x, o: x.__imul__(o),
    "copy_": lambda x, o: x.copy_(o),
}


def _resolve_index(recipe, shape, api):
    """A concrete index for a tensor of ``shape`` from numbers drawn without knowing the shape."""
    kind, numbers = recipe
    if not shape:
        return None  # nothing to index
    first = shape[0]
    if kind == "int":
        return numbers[0] % (2 * first) - first
    if kind == "slice":
        start, stop, step = numbers[0] % (first + 1), numbers[1] % (first + 1), 1 + numbers[2] % 2
        return slice(start, stop, step)
    if kind == "array":
        return api.index_tensor(np.array([n % first for n in numbers], dtype=np.int64))
    if kind == "mask":
        size = int(np.prod(shape))
        bits = [(numbers[i % len(numbers)] >> (i % 7)) & 1 for i in range(size)]
        return api.index_tensor(np.array(bits, dtype=bool).reshape(shape))
    if kind == "int_slice_array" and len(shape) >= 3:  # torch's order of dimensions matters here
        return (numbers[0] % shape[0], slice(None), api.index_tensor(np.array([n % shape[2] for n in numbers])))
    if kind == "slice_int" and len(shape) >= 2:
        return (slice(None), numbers[0] % shape[1])
    return numbers[0] % first


def _apply_step(step, pool, api, hooks_log):
    """Run one step in one engine; returns the new value (or None for a step that makes none)."""
    op = step[0]
    pick = lambda i: pool[i % len(pool)]  # noqa: E731
    if op == "unary":
        return UNARY[step[1]](pick(step[2]))
    if op == "binary":
        _, name, i, other, reflected = step
        b = pick(other[1]) if other[0] == "pool" else _number(other[1])
        a = pick(i)
        return BINARY[name](b, a) if reflected and other[0] == "number" else BINARY[name](a, b)
    if op == "pow":
        return pick(step[1]) ** step[2]
    if op == "matmul":
        a, b = pick(step[1]), pick(step[2])
        if 0 in tuple(a.shape) + tuple(b.shape):  # torch skips its dtype checks for empty operands
            return None
        return api.matmul(a, b)
    if op == "transpose":
        x = pick(step[1])
        return x.transpose(0, x.ndim - 1) if x.ndim >= 2 else x.reshape(-1)
    if op == "index":
        x = pick(step[1])
        index = _resolve_index(step[2], tuple(x.shape), api)
        return x if index is None else x[index]
    if op == "inplace":
        _, name, i, other, under_no_grad = step
        target = pick(i)
        operand = pick(other[1]) if other[0] == "pool" else _number(other[1])
        if name == "copy_" and other[0] == "number":
            name, operand = "fill_", operand
        with api.no_grad() if under_no_grad else contextlib.nullcontext():
            if name == "fill_":
                return target.fill_(operand)
            return INPLACE[name](target, operand)
    if op == "inplace_unary":
        _, name, i, under_no_grad = step
        target = pick(i)
        with api.no_grad() if under_no_grad else contextlib.nullcontext():
            if name == "zero_":
                return target.zero_()
            if name == "clamp_":
                return target.clamp_(-0.5, 1.5)
            return target.pow_(2)
    if op == "hook":
        x = pick(step[1])
        tag = len(hooks_log)
        hooks_log.append([])

        def hook(g, tag=tag):
            hooks_log[tag].append(api.to_numpy(g).copy())
            return g * 2

        api.register_hook(x, hook)
        return None
    if op == "retain":
        pick(step[1]).retain_grad()
        return None
    raise ValueError(f"unknown step {step!r}")


# ----- drawing programs ----------------------------------------------------------------------------
_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)
_numbers = st.tuples(st.sampled_from(["int", "float", "bool"]),
                     st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, -1.5, 2.25]))
_operand = st.one_of(st.tuples(st.just("pool"), st.integers(0, 50)), st.tuples(st.just("number"), _numbers))
_index_recipe = st.tuples(st.sampled_from(["int", "slice", "array", "mask", "int_slice_array", "slice_int"]),
                          st.lists(st.integers(0, 1000), min_size=3, max_size=5))
_pos = st.integers(0, 50)


@st.composite
def inputs(draw):
    """One leaf: a shape (sometimes derived from a shared one so that operands broadcast), a dtype,
    values of both signs (small integers and halves, so float32 and float64 hold them exactly)."""
    shape = draw(_shapes)
    dtype = draw(st.sampled_from(DTYPES))
    values = np.array(draw(st.lists(st.integers(-6, 6), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                      dtype=np.float64).reshape(shape) / 2
    if dtype == "bool":
        array = values > 0
    elif dtype == "int64":
        array = np.round(values).astype(np.int64)
    else:
        array = values.astype(dtype)
    requires_grad = dtype.startswith("float") and draw(st.booleans())
    return array, requires_grad


STEPS = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), _pos),
    st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), _pos, _operand, st.booleans()),
    st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), _pos, _operand, st.booleans()),
    st.tuples(st.just("pow"), _pos, st.sampled_from([2, 3, 0.5, -1, 0])),
    st.tuples(st.just("matmul"), _pos, _pos),
    st.tuples(st.just("transpose"), _pos),
    st.tuples(st.just("index"), _pos, _index_recipe),
    st.tuples(st.just("inplace"), st.sampled_from(sorted(INPLACE)), _pos, _operand, st.booleans()),
    st.tuples(st.just("inplace_unary"), st.sampled_from(["zero_", "clamp_", "pow_"]), _pos, st.booleans()),
    st.tuples(st.just("hook"), _pos),
    st.tuples(st.just("retain"), _pos),
)

programs = st.fixed_dictionaries({
    "inputs": st.lists(inputs(), min_size=1, max_size=3),
    "steps": st.lists(STEPS, min_size=1, max_size=8),
    "backward_twice": st.booleans(),
})


# ----- disagreements that are known and explained (parity/README.md, "Differential fuzzer") ------------
KNOWN = {
    "inplace-on-view": "in-place op on a view while recording: torch rebases the base's history "
                       "(CopySlices); this engine refuses with a RuntimeError",
    "stale-view": "a view used after a recorded in-place op on its base: torch rebuilds the view's "
                  "history; this engine refuses with a RuntimeError",
    "rounding-amplified": "a fractional power or a comparison of values that already differ in their "
                          "last bits (a matmul's cancellation rounded by OpenBLAS and by MKL; torch's "
                          "SLEEF sqrt): x ** 0.5 turns 2e-9 against 0 into 4.7e-5 against 0, a > b flips",
    "overlap-too-hard": "an in-place op whose operand is a strided view overlapping the tensor written "
                        "(x += x[:, 0]): torch computes it, and what it reads depends on its loop's order "
                        "(an element already written is read again); this engine refuses (clone() first)",
    "partial-backward": "a backward that raises part-way: torch has already added to the .grad of leaves "
                        "whose gradient was complete (and run the hooks of the nodes it reached, in its own "
                        "order); this engine adds to none (all or nothing)",
}


def _known(engine_error, torch_error):
    if engine_error is not None and torch_error is None and "in-place change of a view" in str(engine_error):
        return "inplace-on-view"
    if engine_error is not None and torch_error is None and "taken before an in-place op changed its base" in str(
            engine_error):
        return "stale-view"
    if engine_error is not None and torch_error is None and "refer to a single memory location" in str(engine_error):
        return "overlap-too-hard"
    return None


# ----- running a program in both and comparing -----------------------------------------------------
def _attempt(fn):
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - whether each raised is what is compared
        return None, exc


_float32_seen = [False]  # per program: has any float32 value been made (then float64 ones inherit its error)


def _compare_values(where, ours, theirs, float32_seen=None):
    float32_seen = _float32_seen[0] if float32_seen is None else float32_seen
    o_dtype, t_dtype = ENGINE.dtype_name(ours), TORCH.dtype_name(theirs)
    if o_dtype != t_dtype:
        raise Disagreement(f"{where}: dtype {o_dtype} here, {t_dtype} in torch")
    if tuple(ours.shape) != tuple(theirs.shape):
        raise Disagreement(f"{where}: shape {tuple(ours.shape)} here, {tuple(theirs.shape)} in torch")
    a, b = ENGINE.to_numpy(ours), TORCH.to_numpy(theirs)
    if o_dtype in TOL:
        tol = TOL["float32" if float32_seen else o_dtype]  # float64 made from float32 values keeps their error
        close = np.isclose(a, b, equal_nan=True, **tol) | ((a == b) & np.isinf(a))
        if not close.all():
            raise Disagreement(f"{where}: values differ\n here:  {a!r}\n torch: {b!r}")
    elif not np.array_equal(a, b):
        raise Disagreement(f"{where}: values differ\n here:  {a!r}\n torch: {b!r}")


def _compare_flags(where, ours, theirs):
    for flag in ("requires_grad", "is_leaf"):
        if getattr(ours, flag) != getattr(theirs, flag):
            raise Disagreement(f"{where}: {flag} is {getattr(ours, flag)} here, {getattr(theirs, flag)} in torch")


def _rounding_amplified(step, pools):
    """A step that can turn a last-bit difference of its inputs into a large one: a fractional power
    (sqrt of 2e-9 against 0), or a comparison (a > b flips when a is 1 ulp off: torch's float64 sqrt
    is SLEEF's, not always correctly rounded). Only when some input is not bit for bit torch's."""
    if step[0] == "pow" and not float(step[2]).is_integer():
        positions = [step[1]]
    elif step[0] == "binary" and step[1] == "gt":
        positions = [step[2]] + ([step[3][1]] if step[3][0] == "pool" else [])
    else:
        return False
    for i in positions:
        ours, theirs = (pools[api][i % len(pools[api])] for api in (ENGINE, TORCH))
        if not np.array_equal(ENGINE.to_numpy(ours), TORCH.to_numpy(theirs), equal_nan=True):
            return True
    return False


def run_program(program):
    """Run ``program`` in both engines. Returns None if they agree, or the KNOWN key that stopped it;
    raises Disagreement otherwise."""
    pools, hook_logs = {ENGINE: [], TORCH: []}, {ENGINE: [], TORCH: []}
    # float32 arises from float32 inputs, from ints (int / int, exp of an int...) and from .float()
    _float32_seen[0] = any(np.asarray(array).dtype != np.float64 for array, _ in program["inputs"]) or any(
        step[0] == "unary" and step[1] == "float" for step in program["steps"])
    for array, requires_grad in program["inputs"]:
        for api in (ENGINE, TORCH):
            pools[api].append(api.tensor(array.copy(), requires_grad))
    leaves = {api: list(pools[api]) for api in (ENGINE, TORCH)}
    retained = []
    for n, step in enumerate(program["steps"]):
        where = f"step {n} {step!r}"
        if step[0] in ("hook", "retain") and any(pools[api][step[1] % len(pools[api])]._base is not None
                                                 for api in pools):
            continue  # not on views: torch moves them to a rebuilt history after an in-place change (README)
        ours, our_error = _attempt(lambda: _apply_step(step, pools[ENGINE], ENGINE, hook_logs[ENGINE]))
        theirs, their_error = _attempt(lambda: _apply_step(step, pools[TORCH], TORCH, hook_logs[TORCH]))
        if (our_error is None) != (their_error is None):
            known = _known(our_error, their_error)
            if known:
                return known
            raise Disagreement(f"{where}: raised here: {our_error!r}; raised in torch: {their_error!r}")
        if our_error is not None:
            continue
        if step[0] == "retain":
            retained.append(step[1] % len(pools[ENGINE]))
        if ours is None:
            continue
        if _rounding_amplified(step, pools):
            try:
                _compare_values(where, ours, theirs)
            except Disagreement:
                return "rounding-amplified"
        _compare_values(where, ours, theirs)
        _compare_flags(where, ours, theirs)
        pools[ENGINE].append(ours)
        pools[TORCH].append(theirs)
    # every value once more: in-place steps change values made earlier (and views of them)
    for k, (ours, theirs) in enumerate(zip(pools[ENGINE], pools[TORCH])):
        _compare_values(f"value {k} at the end", ours, theirs)
    return _backward_and_compare(program, pools, leaves, retained, hook_logs)


def _backward_and_compare(program, pools, leaves, retained, hook_logs):
    out = {api: next((x for x in reversed(pools[api]) if x.requires_grad), None) for api in (ENGINE, TORCH)}
    if out[ENGINE] is None:
        return None
    rounds = 2 if program["backward_twice"] else 1
    for r in range(rounds):
        before = {api: [_grad_copy(api, leaf) for leaf in leaves[api]] for api in (ENGINE, TORCH)}
        results = {}
        for api in (ENGINE, TORCH):
            x = out[api]
            results[api] = _attempt(lambda x=x: (x.sum() if x.ndim else x).backward())[1]
        known = _known(results[ENGINE], results[TORCH])
        if known:
            return known
        if (results[ENGINE] is None) != (results[TORCH] is None):
            raise Disagreement(f"backward {r + 1}: raised here: {results[ENGINE]!r}; raised in torch: "
                               f"{results[TORCH]!r}")
        if results[ENGINE] is not None:
            # Both raised. This engine adds to no .grad unless the whole pass succeeds; torch may already
            # have added to leaves whose gradient was complete before the failing node.
            after = [_grad_copy(ENGINE, leaf) for leaf in leaves[ENGINE]]
            if not all(_same(a, b) for a, b in zip(before[ENGINE], after)):
                raise Disagreement(f"backward {r + 1} raised, yet changed some .grad here")
            if not all(_same(a, _grad_copy(TORCH, leaf)) for a, leaf in zip(before[TORCH], leaves[TORCH])):
                return "partial-backward"
            if [len(a) for a in hook_logs[ENGINE]] != [len(b) for b in hook_logs[TORCH]]:
                return "partial-backward"  # the nodes reached before the failing one ran their hooks
            if any(not _same(_grad_copy(ENGINE, pools[ENGINE][k]), _grad_copy(TORCH, pools[TORCH][k]))
                   for k in retained):
                return "partial-backward"  # ... and kept their retained gradients
            break
    for k, (ours, theirs) in enumerate(zip(leaves[ENGINE], leaves[TORCH])):
        if (ours.grad is None) != (theirs.grad is None):
            raise Disagreement(f"leaf {k}: grad is {ours.grad!r} here, {theirs.grad!r} in torch")
        if ours.grad is not None:
            _compare_values(f"leaf {k}'s grad", ours.grad, theirs.grad)
    for k in retained:
        ours, theirs = pools[ENGINE][k].grad, pools[TORCH][k].grad
        if (ours is None) != (theirs is None):
            raise Disagreement(f"retained grad of value {k}: {ours!r} here, {theirs!r} in torch")
        if ours is not None:
            _compare_values(f"retained grad of value {k}", ours, theirs)
    if len(hook_logs[ENGINE]) != len(hook_logs[TORCH]) or any(
            len(a) != len(b) for a, b in zip(hook_logs[ENGINE], hook_logs[TORCH])):
        raise Disagreement(f"hooks ran {[len(a) for a in hook_logs[ENGINE]]} times here, "
                           f"{[len(b) for b in hook_logs[TORCH]]} in torch")
    return None


def _grad_copy(api, leaf):
    return None if leaf.grad is None else api.to_numpy(leaf.grad).copy()


def _same(a, b):
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b, equal_nan=True))


def describe(program):
    """The program as a readable list (for failure messages)."""
    lines = [f"input {k}: {array.dtype} {array.shape} requires_grad={rg} {array.tolist()}"
             for k, (array, rg) in enumerate(program["inputs"])]
    lines += [f"step {n}: {step!r}" for n, step in enumerate(program["steps"])]
    lines.append(f"backward twice: {program['backward_twice']}")
    return "\n".join(lines)
