"""grader/python/policy.py: every cheat below must get a finding, every honest launcher none, and
the session's own Triton files (skeletons and solutions) none. Prints one line per case and ends
with 'N passed, N failed'; exit status 1 on a failure."""
import glob
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tally import finish, result  # noqa: E402
from policy import findings  # noqa: E402

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
}

HONEST = {
    "a plain launcher": (
        "import math\nimport triton\nimport triton.language as tl\nfrom triton import cdiv\n\n"
        "@triton.jit\ndef k(x, n, BLOCK: tl.constexpr):\n    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
        "    tl.store(x + o, tl.load(x + o, mask=o < n), mask=o < n)\n\n"
        "def launch(a, b, c):\n    n = a.numel()\n    k[(cdiv(n, 128),)](a, n, BLOCK=128)\n    print(max(1, math.ceil(n / 2)))\n"),
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
files = sorted(glob.glob(os.path.join(ROOT, "ladder", "11-abstractions", "*.py")) +
               glob.glob(os.path.join(ROOT, "solutions", "ladder", "11-abstractions", "*.py")))
files = [f for f in files if os.path.basename(f)[:2].isdigit()]
for f in files:
    with open(f, encoding="utf-8") as fh:
        found = findings(fh.read(), os.path.relpath(f, ROOT))
    result(not found, "the policy accepts " + os.path.relpath(f, ROOT), "; ".join(found))
finish()
