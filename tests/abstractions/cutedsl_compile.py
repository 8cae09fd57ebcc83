"""Session 11's CuTe DSL file (05) compiled for Hopper without a GPU, as the grader runs it: loaded by
the grader's glue (policy, cut-down builtins and imports, audit hook), then its launcher called with
the check's bench-size buffers and a stream. cute.compile runs for real, under the hook that confines
the student's file (the DSL's own ctypes calls let through, its dumps in the build's cache folder);
only the compiled function's launch, which needs a GPU, is caught (and the question how many
clusters the GPU holds at once, answered as an H200 would). Checks that the skeleton and the
solution compile for sm_90a in both of the launcher's variants (C rows 16-byte aligned or not), that
each variant is compiled once however often it is launched, and that the solution's PTX holds wgmma
and TMA (cp.async.bulk.tensor) instructions; prints the compile times (the check's warm-up pays them).

    python3 tests/abstractions/cutedsl_compile.py           every file, then 'N passed, N failed'
    python3 tests/abstractions/cutedsl_compile.py FILE      (internal) one file, in a process of its own
Exit status 1 on a failure, 77 when the CuTe DSL cannot be imported.
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
from tally import finish, result  # noqa: E402

FILE = "05_cutedsl_gemm.py"
SESSION = "ladder/11-abstractions"
WORDS = ("wgmma.mma_async", "cp.async.bulk.tensor")


def one(path):
    """Load PATH through the glue, compile both variants under its hook, print one line each."""
    cache = tempfile.mkdtemp(prefix="cutedsl-compile-test-")
    os.environ["TRITON_CACHE_DIR"] = cache
    os.environ["CUTE_DSL_ARCH"] = "sm_90a"
    os.environ["CUTE_DSL_KEEP"] = "ptx"
    import glue
    answer = glue.load(path, -1)
    if answer is not None:
        print("FAIL  load: %s" % (answer,))
        return 1
    import cutlass.cute as cute
    real = cute.compile
    compiles = []

    def compile_only(fn, *args, **kw):
        start = time.time()
        compiled = real(fn, *args, **kw)
        ptx = compiled.artifacts.PTX or ""
        if os.path.isfile(ptx):
            with open(ptx) as f:
                ptx = f.read()
        compiles.append((time.time() - start, ptx))
        return lambda *a, **k: None   # the launch: no GPU here
    cute.compile = compile_only   # what the file's cute.compile(...) reaches

    class NoGpuHardwareInfo:   # a persistent launcher asks how many clusters fit: an H200's answer
        def get_max_active_clusters(self, cluster_size):
            return 132 // cluster_size
    import cutlass.utils
    cutlass.utils.HardwareInfo = NoGpuHardwareInfo
    stream = glue._state["cu_stream"](0)
    status = 0
    for n in (8192, 8190, 8192, 8190):   # each variant twice: the second launch must not compile
        before = len(compiles)
        args = [("t", 1 << 20, "bf16", (8192, 8192)), ("t", 1 << 21, "bf16", (n, 8192)),
                ("t", 1 << 22, "bf16", (8192, n)), ("s", 0)]
        answer = glue.call(0, args)
        if answer is not None:
            print("FAIL  launch(N=%d): %s" % (n, answer))
            return 1
        if len(compiles) > before:
            seconds, ptx = compiles[-1]
            print("PTX   N=%d %.1f %s" % (n, seconds, " ".join(w for w in WORDS if w in ptx)))
        else:
            print("CACHED N=%d" % n)
    del stream
    glue._state["student"] = False
    import shutil
    shutil.rmtree(cache, ignore_errors=True)
    return status


if len(sys.argv) == 2:
    sys.exit(one(sys.argv[1]))

try:
    import cutlass  # noqa: F401
except Exception as e:  # noqa: BLE001
    print("cutedsl_compile: the CuTe DSL cannot be imported here (%s)" % e)
    sys.exit(77)
for variant in ("", "solutions/"):
    rel = variant + SESSION + "/" + FILE
    what = ("solution " if variant else "skeleton ") + FILE
    run = subprocess.run([sys.executable, __file__, os.path.join(ROOT, rel)], capture_output=True, text=True,
                         timeout=600)
    lines = run.stdout.splitlines()
    compiled = [ln.split() for ln in lines if ln.startswith("PTX ")]
    cached = [ln for ln in lines if ln.startswith("CACHED ")]
    if run.returncode != 0 or len(compiled) != 2:
        result(False, what + ": loads under the grader's glue and compiles for sm_90a",
               "\n".join((lines + run.stderr.splitlines())[-15:]))
        continue
    for words in compiled:
        n, seconds, found = words[1], float(words[2]), words[3:]
        missing = [w for w in WORDS if w not in found] if variant else []
        result(not missing, "%s (%s): compiles for sm_90a under the glue's audit hook in %.1f s%s" % (
            what, "C rows 16-byte aligned, " + n if n == "N=8192" else "C rows unaligned, " + n, seconds,
            " (wgmma and TMA in its PTX)" if variant else ""), "no " + ", ".join(missing) + " in the PTX")
    result(len(cached) == 2, what + ": a variant compiled once is launched again without compiling", "\n".join(lines))
finish()
