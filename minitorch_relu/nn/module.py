"""Module: the base of every layer. It registers Parameters and child Modules as they are assigned."""

from collections import OrderedDict, namedtuple

import numpy as np

from ..backend import get_backend
from ..tensor import Tensor
from .parameter import Parameter, zero_grads

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())  # state that is not trained (running stats)
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name!r}")
        if name in self.__dict__.get("_buffers", ()) and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value  # assigning to a buffer replaces its tensor, as in torch
            object.__setattr__(self, name, value)
            return
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self.__dict__.get("_buffers", {}).pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def register_buffer(self, name, tensor, persistent=True):
        """Keep ``tensor`` as state that is saved and moved with the module but not trained.

        Persistent buffers appear in state_dict() after the module's own parameters, as in torch.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign a {type(tensor).__name__} as buffer {name!r} (a Tensor or None is required)")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: attribute {name!r} already exists as a parameter or module")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def named_buffers(self, prefix="", recurse=True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buf

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def _state_tensors(self):
        """name -> Tensor for state_dict, in torch's order: per module, its parameters, then its
        persistent buffers, then its children."""
        entries, seen = OrderedDict(), set()
        for prefix, module in self.named_modules():
            own = list(module._parameters.items()) + [
                (n, b) for n, b in module._buffers.items() if n not in module._non_persistent_buffers]
            for name, value in own:
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                entries[f"{prefix}.{name}" if prefix else name] = value
        return entries

    # ----- walking the tree ---------------------------------------------------------------------
    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """(name, Parameter) pairs in torch's order: each module's own, then its children's."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    # ----- training state -----------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, backend):
        """Move every parameter (and its gradient) and every buffer to ``backend`` in place; returns self."""
        target = get_backend(backend)
        for param in self.parameters():
            moved = param.to(target)
            param.data = moved.data
            param.grad = moved.grad
        for buf in self.buffers():
            buf.data = buf.to(target).data
        return self

    # ----- saving and loading -------------------------------------------------------------------
    def state_dict(self):
        """name -> numpy array (a copy), with torch's key names ("0.weight", "0.bias", ...), buffers included."""
        return OrderedDict((name, np.array(t.numpy(), copy=True)) for name, t in self._state_tensors().items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters. Every problem is listed, and nothing changes unless all is well.

        Values may be numpy arrays, Tensors, or anything numpy can read (torch CPU tensors included).
        """
        params = self._state_tensors()  # parameters and persistent buffers
        missing = [k for k in params if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params]
        values, problems = {}, []
        for name, param in params.items():
            if name not in state_dict:
                continue
            try:  # every value is converted now, so a bad one fails before any parameter changes
                value = state_dict[name]
                value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
                if value.dtype.kind not in "biuf":
                    raise TypeError(f"unsupported dtype {value.dtype}")
                if value.shape != param.shape:
                    problems.append(f"size mismatch for {name}: got shape {value.shape}, the model has {param.shape}")
                    continue
                values[name] = get_backend(param.backend).asarray(value.astype(param.dtype))
            except (TypeError, ValueError) as exc:
                problems.append(f"cannot load {name}: {exc}")
        if strict:
            if missing:
                problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise RuntimeError(f"error(s) in loading state_dict for {type(self).__name__}:\n  " + "\n  ".join(problems))
        for name, value in values.items():
            params[name].data[...] = value
            params[name]._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -----------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"
