"""The machines users run on, simulated on one CPU by environment variables.

Each library picks its kernels from the CPU it finds; these variables make it pick another CPU's:

- ``OPENBLAS_CORETYPE``: NumPy's OpenBLAS (this engine's matrix products) -- SkylakeX (AVX-512),
  Haswell (AVX2), Sandybridge (AVX), Nehalem (SSE only);
- ``MKL_ENABLE_INSTRUCTIONS``: torch's MKL (torch's matrix products) -- AVX512, AVX2, AVX, SSE4_2;
- ``ONEDNN_MAX_CPU_ISA``: torch's oneDNN (torch's convolutions, hence the CNN) -- AVX2, AVX, SSE41;
- ``ATEN_CPU_CAPABILITY``: torch's own vectorized kernels (sums, softmax, Adam's foreach ops, and the
  Box-Muller of ``normal_``) -- avx512, avx2, default;
- ``NPY_DISABLE_CPU_FEATURES``: NumPy's ufunc loops (exp, log, sums) built for AVX-512 or AVX2.

A variable can only take a library *down* from the CPU it runs on, so the "avx512" profile is this
machine as it is, and it is AVX-512 only where the CPU has it. Each profile runs with one and with
two threads: the thread count changes how a product is split, hence its rounding.
"""

NO_AVX512_NUMPY = "X86_V4 AVX512_ICL AVX512_SPR"
NO_AVX2_NUMPY = "X86_V3 " + NO_AVX512_NUMPY

KERNELS = {
    "avx512": {},
    "avx2": {"OPENBLAS_CORETYPE": "Haswell", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "ATEN_CPU_CAPABILITY": "avx2", "NPY_DISABLE_CPU_FEATURES": NO_AVX512_NUMPY},
    "avx": {"OPENBLAS_CORETYPE": "Sandybridge", "MKL_ENABLE_INSTRUCTIONS": "AVX", "ONEDNN_MAX_CPU_ISA": "AVX",
            "ATEN_CPU_CAPABILITY": "default", "NPY_DISABLE_CPU_FEATURES": NO_AVX2_NUMPY},
    "sse": {"OPENBLAS_CORETYPE": "Nehalem", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41",
            "ATEN_CPU_CAPABILITY": "default", "NPY_DISABLE_CPU_FEATURES": NO_AVX2_NUMPY},
}
THREAD_COUNTS = (1, 2)


def profiles():
    """name -> environment variables, for every kernel set and thread count ("avx2-t1", ...)."""
    out = {}
    for kernel, env in KERNELS.items():
        for threads in THREAD_COUNTS:
            out[f"{kernel}-t{threads}"] = dict(env, MINITORCH_RELU_PARITY_THREADS=str(threads))
    return out
