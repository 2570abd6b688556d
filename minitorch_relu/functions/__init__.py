"""Every differentiable op, one small class each: forward, what it saves, backward."""

from .arithmetic import Add, Div, Mul, Neg, PowScalar, Sub
from .batch_norm import BatchNorm
from .conv2d import Conv2d
from .cross_entropy import CrossEntropy
from .dropout import Dropout
from .exp_log import Exp, Log, Sqrt
from .leaky_relu import LeakyReLU
from .linear import Linear
from .matmul import MatMul
from .max_pool2d import MaxPool2d
from .mse import MSELoss
from .reduce import MaxAll, MaxDim, Mean, Sum
from .relu import ReLU
from .shape import Cast, Index, Permute, Reshape
from .sigmoid import Sigmoid
from .softmax import LogSoftmax, Softmax
from .tanh import Tanh
