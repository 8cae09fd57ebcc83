"""grader/python/policy.py: every cheat below must get a finding, every honest launcher none, and
the session's own Python files (Triton and CuTe DSL, skeletons and solutions) none. Prints one line per case and ends
with 'N passed, N failed'; exit status 1 on a failure."""
import glob
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tally import finish, result  # noqa: E402
from policy import findings, frameworks  # noqa: E402

CHEATS = {
    "imports torch (the library instead of a kernel)": "import torch\ndef launch(a, b, c):\n    pass\n",
    "imports os": "import os\n",
    "imports ctypes (raw memory)": "import ctypes\n",
    "imports importlib": "import importlib\n",
    "imports a triton submodule that is not the language": "import triton.language.core\n",
    "relative import": "from . import glue\n",
    "from triton import testing": "from triton.testing import do_bench\n",
    "from triton import *": "from triton import *\n",
    "triton.testing through the module": "import triton\nt = triton.testing.do_bench\n",
    "triton.runtime's driver (raw stream)": "import triton\ns = triton.runtime.driver.active.get_current_stream(0)\n",
    "the autotuner": "import triton\n@triton.autotune(configs=[], key=[])\ndef f():\n    pass\n",
    "set_allocator": "import triton\ntriton.set_allocator(None)\n",
    "__import__": "x = __import__('os')\n",
    "dunder walk to subclasses": "x = ().__class__.__base__.__subclasses__()\n",
    "function globals": "def f():\n    pass\ng = f.__globals__\n",
    "getattr by string": "import triton\nt = getattr(triton, 'test' + 'ing')\n",
    "eval": "eval('1')\n",
    "exec": "exec('x = 1')\n",
    "compile": "compile('1', 'f', 'eval')\n",
    "open /proc": "open('/proc/self/mem', 'rb')\n",
    "globals()": "globals()['x'] = 1\n",
    "vars()": "vars()\n",
    "type()": "type(1)\n",
    "breakpoint": "breakpoint()\n",
    "a module of Triton's own imports, as an attribute": "import triton.language as tl\ntl.core.os.system('id')\n",
    "builtins as an attribute": "import triton.language as tl\nb = tl.core.builtins\n",
    "torch as an attribute": "import triton\nt = triton.torch\n",
    "a compiled kernel's raw launcher (a stream of its own)":
        "import triton\n@triton.jit\ndef k(x):\n    pass\nfor c in k.device_caches.values():\n    pass\n",
    "JITFunction.run": "import triton\n@triton.jit\ndef k(x):\n    pass\nk.run(1, grid=(1,), warmup=False)\n",
    "a kernel's Python function": "import triton\n@triton.jit\ndef k(x):\n    pass\nf = k.fn\n",
    "global state between calls": "cache = {}\ndef launch(a):\n    global cache\n    cache = a\n",
    "a class": "class Cache:\n    pass\n",
    "an underscore alias": "import math as _m\n",
    "an underscore name": "_hidden = 1\n",
    "an underscore parameter": "def launch(_a):\n    pass\n",
    "an underscore function": "def _helper():\n    pass\n",
    "asynchronous code": "async def launch(a):\n    pass\n",
    "syntax error": "def launch(:\n",
    "inline PTX reading the clock":
        "import triton\nimport triton.language as tl\n@triton.jit\ndef k(x):\n"
        "    t = tl.inline_asm_elementwise('mov.u64 $0, %globaltimer;', '=l', [], dtype=tl.int64, is_pure=False, pack=1)\n",
    "inline PTX built at run time": "import triton.language as tl\nf = tl.core.inline_asm_elementwise\n",
    "Triton's own clock helper": "import triton.language as tl\n@triton.jit\ndef k(x):\n    t = tl.extra.cuda.globaltimer()\n",
    "the clock helper imported by name": "from triton.language.extra.cuda import globaltimer\n",
    # the CuTe DSL's escape hatches
    "the DSL's clock in a kernel": "import cutlass.cute as cute\n@cute.kernel\ndef k():\n    t = cute.arch.clock64()\n",
    "the DSL's 32-bit clock": "import cutlass.cute as cute\n@cute.kernel\ndef k():\n    t = cute.arch.clock()\n",
    "the DSL's global timer": "import cutlass.cute as cute\n@cute.kernel\ndef k():\n    t = cute.arch.globaltimer_lo()\n",
    "a DSL clock imported by name": "from cutlass.cute.arch import clock64\n",
    "inline PTX through the DSL's LLVM wrapper":
        "import cutlass.cute as cute\n@cute.kernel\ndef k():\n"
        "    cute.arch.nvvm_wrappers.llvm.inline_asm(None, [], 'mov.u64 $0, %globaltimer;', '=l', has_side_effects=True)\n",
    "NVVM's special registers directly": "import cutlass.cute as cute\nr = cute.arch.nvvm_wrappers.nvvm\n",
    "MLIR's dialects": "import cutlass.cute as cute\nd = cute.core.ir\n",
    "the DSL's internals": "import cutlass\nb = cutlass.base_dsl\n",
    "the DSL's internals imported": "import cutlass.base_dsl\n",
    "the DSL's timer": "import cutlass.cute as cute\nt = cute.testing.benchmark\n",
    "the DSL's CUDA driver bindings": "import cutlass\nd = cutlass.cuda\n",
    "a compile's options (files written by the compiler)":
        "import cutlass.cute as cute\nf = cute.compile(k, 1, options='--dump-dir=/home/x --keep-ptx')\n",
    "options given by subscript": "import cutlass.cute as cute\nf = cute.compile[cute.KeepPTX](k, 1)\n",
    "an option class imported by name": "from cutlass.cute import KeepCUBIN\n",
    "a compiled function's export to a file": "import cutlass.cute as cute\nf = cute.compile(k)\nf.export_to_c('x.h')\n",
    "a compiled function's raw entry point": "import cutlass.cute as cute\nf = cute.compile(k)\ng = f.capi_func\n",
    "a DSL module that is not allowed": "import cutlass.torch\n",
}

HONEST = {
    "a plain launcher": (
        "import math\nimport triton\nimport triton.language as tl\nfrom triton import cdiv\n\n"
        "@triton.jit\ndef k(x, n, BLOCK: tl.constexpr):\n    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
        "    tl.store(x + o, tl.load(x + o, mask=o < n), mask=o < n)\n\n"
        "def launch(a, b, c):\n    n = a.numel()\n    k[(cdiv(n, 128),)](a, n, BLOCK=128)\n    print(max(1, math.ceil(n / 2)))\n"),
    "a CuTe DSL launcher": (
        "import math\nimport cutlass\nimport cutlass.cute as cute\nfrom cutlass.cute.runtime import make_ptr\n"
        "from cutlass.cute.nvgpu import cpasync, warpgroup\nimport cutlass.pipeline as pipeline\n"
        "import cutlass.utils.hopper_helpers as sm90\nCOMPILED = {}\n\n"
        "@cute.kernel\ndef k(x: cute.Tensor):\n    i = cute.arch.thread_idx()[0]\n    x[i] = cutlass.BFloat16(1.0)\n\n"
        "@cute.jit\ndef host(p: cute.Pointer, n: cutlass.Int32, stream):\n"
        "    k(cute.make_tensor(p, cute.make_layout(n))).launch(grid=[1, 1, 1], block=[32, 1, 1], stream=stream)\n\n"
        "def launch(a, b, c, stream):\n    p = make_ptr(cutlass.BFloat16, c.data_ptr(), cute.AddressSpace.gmem)\n"
        "    f = COMPILED.get(0)\n    if f is None:\n        f = COMPILED[0] = cute.compile(host, p, cutlass.Int32(32), stream)\n"
        "    f(p, cutlass.Int32(32), stream)\n"),
    "heuristics and Config": (
        "import triton\nimport triton.language as tl\n\n@triton.heuristics({'EVEN': lambda args: args['n'] % 64 == 0})\n"
        "@triton.jit\ndef k(x, n, EVEN: tl.constexpr):\n    pass\n\nconfigs = [triton.Config({'B': 64}, num_warps=4)]\n"),
}



for what, src in CHEATS.items():
    found = findings(src, "cheat.py")
    result(bool(found), "refused: " + what, "no finding")
    result(all(line.startswith("cheat.py:") for line in found), "one 'file:line: what' line per finding: " + what,
           "; ".join(found))
for what, src in HONEST.items():
    found = findings(src, "honest.py")
    result(not found, "accepted: " + what, "; ".join(found))
result(frameworks(HONEST["a CuTe DSL launcher"]) == {"cutlass"} and frameworks(HONEST["a plain launcher"]) == {"triton"}
       and frameworks("def launch(:") == set(), "frameworks(): what the loader starts for a file (Triton, the CuTe DSL)")
files = sorted(glob.glob(os.path.join(ROOT, "ladder", "11-abstractions", "*.py")) +
               glob.glob(os.path.join(ROOT, "solutions", "ladder", "11-abstractions", "*.py")))
files = [f for f in files if os.path.basename(f)[:2].isdigit()]
for f in files:
    with open(f, encoding="utf-8") as fh:
        found = findings(fh.read(), os.path.relpath(f, ROOT))
    result(not found, "the policy accepts " + os.path.relpath(f, ROOT), "; ".join(found))
finish()
