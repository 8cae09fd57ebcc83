"""Session 11's Triton files compiled for Hopper without a GPU: each launcher is called at the bench
size with stand-in buffers, its kernel launches are caught instead of run, and Triton compiles each
one for sm_90a (its own ptxas). Checks that every skeleton and solution compiles as shipped, that
the solutions' GEMMs use wgmma and the persistent one TMA, and prints Triton's compile time, the
JIT cost the check's warm-up pays (session 11's table).

    python3 tests/abstractions/triton_compile.py     one line a kernel, then 'N passed, N failed'
Exit status 1 on a failure, 77 when Triton cannot be imported.
"""
import os
import runpy
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
from tally import finish, result  # noqa: E402

os.environ["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="triton-compile-test-")
try:
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.runtime.jit import JITFunction
except Exception as e:  # noqa: BLE001
    print("triton_compile: Triton cannot be imported here (%s)" % e)
    sys.exit(77)

from glue import DeviceArray  # noqa: E402  the grader's own stand-in for a buffer

SESSION = "ladder/11-abstractions"
HOPPER = GPUTarget("cuda", 90, 32)
OPTIONS = ("num_warps", "num_stages", "num_ctas", "maxnreg")

# The bench sizes of the check (ladder/11-abstractions/check.c): the launchers pick their tiles from them.
GEMM = lambda: (DeviceArray(1 << 20, "torch.bfloat16", 2, (8192, 8192)),  # noqa: E731
                DeviceArray(1 << 21, "torch.bfloat16", 2, (8192, 8192)),
                DeviceArray(1 << 22, "torch.bfloat16", 2, (8192, 8192)))
FLASH = lambda causal: (DeviceArray(1 << 20, "torch.bfloat16", 2, (4, 16, 4096, 128)),  # noqa: E731
                        DeviceArray(1 << 21, "torch.bfloat16", 2, (4, 16, 4096, 128)),
                        DeviceArray(1 << 22, "torch.bfloat16", 2, (4, 16, 4096, 128)),
                        DeviceArray(1 << 23, "torch.bfloat16", 2, (4, 16, 4096, 128)),
                        DeviceArray(1 << 24, "torch.float32", 4, (4, 16, 4096)), causal)
CASES = [
    ("01_triton_gemm.py", lambda: GEMM(), ["wgmma"]),
    ("02_triton_gemm_persistent.py", lambda: GEMM() + (132,), ["wgmma", "cp.async.bulk.tensor"]),
    ("03_triton_flash.py", lambda: FLASH(0), ["wgmma"]),
    ("03_triton_flash.py", lambda: FLASH(1), ["wgmma"]),
]


def caught_launches(path, args):
    """The kernel launches a launcher makes, caught: [(JITFunction, positional args, keywords)]."""
    calls = []
    real = JITFunction.run

    def catch(self, *a, grid, warmup, **kw):
        calls.append((self, a, kw))
    JITFunction.run = catch
    try:
        runpy.run_path(path, run_name="student")["launch"](*args)
    finally:
        JITFunction.run = real
    return calls


def compile_one(fn, args, kw):
    """Triton's compile of one caught launch for sm_90a: (seconds, its PTX)."""
    names = fn.arg_names
    signature, constexprs = {}, {}
    for i, name in enumerate(names):
        param = fn.params[i]
        value = args[i] if i < len(args) else kw.get(name, param.default)
        if param.is_constexpr:
            signature[name], constexprs[name] = "constexpr", value
        elif isinstance(value, DeviceArray):
            signature[name] = "*" + {"bfloat16": "bf16", "float32": "fp32"}[str(value.dtype).split(".")[-1]]
        elif isinstance(value, bool):
            signature[name] = "i1"
        elif isinstance(value, int):
            signature[name] = "i32"
        else:
            signature[name] = "fp32"
    options = {k: v for k, v in kw.items() if k in OPTIONS}
    start = time.time()
    compiled = triton.compile(ASTSource(fn=fn, signature=signature, constexprs=constexprs), target=HOPPER,
                              options=options)
    return time.time() - start, compiled.asm["ptx"]


for name, make_args, words in CASES:
    for variant in ("", "solutions/"):
        rel = variant + SESSION + "/" + name
        what = ("solution " if variant else "skeleton ") + rel.split("/")[-1]
        try:
            calls = caught_launches(os.path.join(ROOT, rel), make_args())
        except Exception as e:  # noqa: BLE001
            result(False, what + ": its launcher runs with stand-in buffers", repr(e)[:300])
            continue
        result(bool(calls), what + ": its launcher launches a kernel", "no launch")
        for fn, args, kw in calls:
            try:
                seconds, ptx = compile_one(fn, args, kw)
            except Exception as e:  # noqa: BLE001
                result(False, "%s: %s compiles for sm_90a" % (what, fn.__name__), repr(e)[:400])
                continue
            missing = [w for w in words if w not in ptx] if variant else []
            result(not missing, "%s: %s compiles for sm_90a in %.1f s%s" % (
                what, fn.__name__, seconds, (" (" + ", ".join(words) + " in its PTX)") if variant else ""),
                "no " + ", ".join(missing) + " in the PTX")
finish()
