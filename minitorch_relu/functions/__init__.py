"""Every differentiable op, one small class each: forward, what it saves, backward.

The index: each op and its derivative (g is the incoming gradient dL/d out; broadcasting binary ops
sum each input's gradient back to that input's shape).

arithmetic.py    Add a + b: (g, g)              Sub a - b: (g, -g)          Mul a * b: (g b, g a)
                 Div a / b: (g / b, -g a / b^2)  Neg -a: -g                  PowScalar x^p: g p x^(p-1)
power.py         Pow a^b (tensor exponent): (g b a^(b-1), g a^b log a)  [0 where b == 0 / where a == 0 and b >= 0]
matmul.py        MatMul a @ b: (g @ b^T, a^T @ g)
linear.py        Linear x W^T + b: (g W, g^T x, sum of g over the batch)
exp_log.py       Exp: g exp(x)     Log: g / x     Sqrt: g / (2 sqrt(x))
elementwise.py   Abs: g sign(x)    Sign: 0        Clamp: g where min < x < max, else 0
select.py        Maximum/Minimum: g to the chosen input, g/2 to each on a tie
                 Where c ? x : y: (g where c, g where not c)
relu.py          ReLU: g where x > 0 (0 at x = 0)
leaky_relu.py    LeakyReLU: g where x > 0, slope * g elsewhere
sigmoid.py       Sigmoid: g s (1 - s)
tanh.py          Tanh: g (1 - tanh^2)
gelu.py          GELU x Phi(x): g (Phi(x) + x phi(x)); tanh form: g ((1 + t)/2 + x/2 (1 - t^2) u'(x))
silu.py          SiLU x s(x): g s (1 + x (1 - s))
elu.py           ELU: g for x > 0, g alpha exp(x) otherwise
softplus.py      Softplus log(1 + e^(beta x))/beta: g sigmoid(beta x) (g where beta x > threshold)
softmax.py       Softmax: y (g - sum(g y))      LogSoftmax: g - softmax * sum(g)
reduce.py        Sum: g broadcast back    Mean: g / N broadcast back
                 MaxAll/MinAll: g shared evenly by the tied extremes    MaxDim/MinDim: g to argmax's/argmin's position
prod.py          Prod: g * (product of every other element)
variance.py      Var: g 2 (x - mean) / (N - correction)    Std: Var's with g / (2 std) (0 where std = 0)
logsumexp.py     LogSumExp: g softmax(x) = g exp(x - lse)
shape.py         Reshape: g reshaped back    Permute: g permuted back    Index: g scattered (added) back
                 Cast: g cast back to the input's dtype
expand.py        Expand: g summed over the repeated dims
join.py          Cat: each input's slice of g    Stack: each input's index of g
embedding.py     Embedding weight[idx]: g rows added into the rows looked up (dense or row-sparse)
cross_entropy.py CrossEntropy: (softmax - onehot) / N    SmoothedCrossEntropy: (softmax - q) / N kept
nll_loss.py      NLLLoss -logp[target]: -onehot / N kept
binary_cross_entropy.py  BinaryCrossEntropy: (g (x - t) / (x (1 - x)), g (log(1 - x) - log x))
                         BinaryCrossEntropyWithLogits: (g (sigmoid(z) - t), -g z)
mse.py           MSELoss mean((x - y)^2): (2 (x - y) / N, -2 (x - y) / N)
dropout.py       Dropout x * noise (noise = mask / (1 - p), drawn outside): g * noise
batch_norm.py    BatchNorm w xhat + b: (g w - mean(g w) - xhat mean(g w xhat)) / sqrt(var + eps),
                 sum(g xhat), sum(g)   [eval: g w / sqrt(running_var + eps)]
conv2d.py        Conv2d cols @ W^T + b (im2col): (col2im(g @ W), g^T @ cols, sum of g)
max_pool2d.py    MaxPool2d: g to each window's first maximum
inplace.py       Clone: g    Fill: 0    Copy x <- src: (0, g summed back to src's shape)

Helpers: reduction.py (a loss's mean/sum/none and its derivative); cupy_fused.py (the GPU versions
of ReLU and CrossEntropy, one fused kernel each, run by Function.apply on CuPy arrays); _erf.py.
"""

from .arithmetic import Add, Div, Mul, Neg, PowScalar, Reciprocal, Sub
from .batch_norm import BatchNorm
from .binary_cross_entropy import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from .conv2d import Conv2d
from .cross_entropy import CrossEntropy, SmoothedCrossEntropy
from .dropout import Dropout
from .elementwise import Abs, Clamp, Sign
from .elu import ELU
from .exp_log import Exp, Log, Sqrt
from .expand import Expand
from .gelu import GELU
from .join import Cat, Stack
from .inplace import Clone, Copy, Fill
from .leaky_relu import LeakyReLU
from .linear import Linear
from .logsumexp import LogSumExp
from .matmul import MatMul
from .max_pool2d import MaxPool2d
from .mse import MSELoss
from .nll_loss import NLLLoss
from .power import Pow
from .prod import Prod
from .reduce import MaxAll, MaxDim, Mean, MinAll, MinDim, Sum
from .relu import ReLU
from .select import Maximum, Minimum, Where
from .shape import Cast, Index, Permute, Reshape
from .sigmoid import Sigmoid
from .silu import SiLU
from .softmax import LogSoftmax, Softmax
from .softplus import Softplus
from .tanh import Tanh
from .variance import Std, Var

from . import cupy_fused  # noqa: F401  (registers the GPU versions of ReLU and CrossEntropy)
