"""Every differentiable op, one small class each: forward, what it saves, backward."""

from .arithmetic import Add, Div, Mul, Neg, PowScalar, Reciprocal, Sub
from .cross_entropy import CrossEntropy
from .exp_log import Exp, Log, Sqrt
from .inplace import Clamp, Clone, Copy, Fill
from .leaky_relu import LeakyReLU
from .linear import Linear
from .matmul import MatMul
from .mse import MSELoss
from .reduce import MaxAll, MaxDim, Mean, Sum
from .relu import ReLU
from .shape import Cast, Index, Permute, Reshape
from .sigmoid import Sigmoid
from .softmax import LogSoftmax, Softmax
from .tanh import Tanh
