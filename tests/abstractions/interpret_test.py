#!/usr/bin/env python3
"""Session 11's Triton exercises without a GPU: the kernels run in Triton's interpreter on CPU tensors.

    TRITON_INTERPRET=1 python3 tests/abstractions/interpret_test.py [--solutions|--skeletons]

--solutions (the default) runs the hidden solutions on small odd sizes against a float64 reference;
--skeletons checks that each skeleton imports, launches and leaves its NaN-filled output untouched.
Both first hold all six files to the grader's Python policy (grader/python/policy.py). One line a case, then
"N passed, N failed"; the exit status is 1 when anything failed, 77 when torch or triton is missing.

Two things of the interpreter are worked around here, not in the exercises: its tl.dot multiplies
BF16 operands as the raw 16-bit integers it stores them in (they are widened to FP32 first), and
Triton 3.6's interpreter, under NumPy 2.4 or later, cannot turn a scalar into a loop bound (int()
of a one-element array; the index is taken as later Tritons take it).
"""
import importlib.util
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SESSION = "ladder/11-abstractions"
FILES = ("01_triton_gemm.py", "02_triton_gemm_persistent.py", "03_triton_flash.py")

sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
from tally import counts, result  # noqa: E402


# ---- the policy ---------------------------------------------------------------------------------

# The grader's own policy (grader/python/policy.py), not a copy of its rules.
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
from policy import findings  # noqa: E402


def policy_problems(path):
    with open(path, encoding="utf-8") as f:
        return findings(f.read(), os.path.relpath(path, ROOT))


def check_policy():
    for sub in ("", "solutions/"):
        for name in FILES:
            rel = sub + SESSION + "/" + name
            path = os.path.join(ROOT, rel)
            if not os.path.exists(path):
                result(False, "policy: " + rel, "missing")
                continue
            problems = policy_problems(path)
            result(not problems, "policy: " + rel, "; ".join(problems))
    for name in FILES:
        first = [open(os.path.join(ROOT, sub + SESSION + "/" + name)).readline().rstrip()
                 for sub in ("", "solutions/")]
        result(first[0] != first[1] and first[1].endswith("(solution)") and not first[0].endswith("(solution)"),
               "title lines: %s's skeleton and solution differ, the solution's ends with (solution)" % name,
               repr(first))


# ---- the runs ----------------------------------------------------------------------------------


def main():
    mode = "solutions"
    for arg in sys.argv[1:]:
        if arg in ("--solutions", "--skeletons"):
            mode = arg[2:]
        else:
            print("usage: TRITON_INTERPRET=1 %s [--solutions|--skeletons]" % sys.argv[0])
            return 64
    try:
        import numpy as np
        import torch
        import triton
        import triton.language as tl
        from triton.runtime import interpreter
    except Exception as e:  # noqa: BLE001 - any failure to import means "cannot test here"
        print("SKIP torch or triton cannot be imported (%s)" % e)
        return 77
    if os.environ.get("TRITON_INTERPRET") != "1":
        print("SKIP run with TRITON_INTERPRET=1 (there is no GPU here; the interpreter runs the kernels)")
        return 77
    print("torch %s, triton %s, numpy %s; %s" % (torch.__version__, triton.__version__, np.__version__, mode))

    # The interpreter keeps BF16 as uint16 and its dot would multiply those integers: widen to FP32.
    plain_dot = interpreter.InterpreterBuilder.create_dot

    def dot_bf16(self, a, b, d, *rest):
        def widen(h):
            if h.dtype.scalar == tl.bfloat16:
                return interpreter.TensorHandle((h.data.astype(np.uint32) << 16).view(np.float32), tl.float32)
            return h
        return plain_dot(self, widen(a), widen(b), d, *rest)

    interpreter.InterpreterBuilder.create_dot = dot_bf16

    # Triton 3.6's interpreter turns a scalar into a loop bound with int() of a one-element array,
    # which NumPy 2.4 refuses; later Tritons squeeze it first, as this does.
    patch_tensor = interpreter._patch_lang_tensor

    def patch_tensor_squeezed(tensor, scope):
        patch_tensor(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))

    interpreter._patch_lang_tensor = patch_tensor_squeezed
    # Device-side descriptors ask for scratch memory; the grader installs an allocator likewise.
    triton.set_allocator(lambda size, alignment, stream: torch.empty(size, dtype=torch.int8))

    np.seterr(divide="ignore", invalid="ignore")  # log2(0) = -inf for rows that see no key is meant
    check_policy()
    base = os.path.join(ROOT, ("solutions/" if mode == "solutions" else "") + SESSION)
    mods = {}
    for name in FILES:
        try:
            spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(base, name))
            mods[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mods[name])
            result(True, "import " + name)
        except Exception as e:  # noqa: BLE001
            result(False, "import " + name, repr(e))
    torch.manual_seed(11)

    def rel_err(x, ref):
        n = ref.norm().item()
        return (x.double() - ref).norm().item() / (n if n > 0 else 1.0)

    # -- GEMM: C = A B^T, a guard row after C that must stay NaN.
    gemm_shapes = [(1, 1, 8), (17, 17, 16), (127, 65, 40), (33, 127, 8), (300, 258, 1000), (384, 136, 24)]
    for name, extra in (("01_triton_gemm.py", ()), ("02_triton_gemm_persistent.py", (4,))):
        if name not in mods:
            continue
        for M, N, K in gemm_shapes:
            what = "%s %dx%dx%d" % (name[:-3], M, N, K) + (" num_sms=4" if extra else "")
            a = torch.randn(M, K).to(torch.bfloat16)
            b = torch.randn(N, K).to(torch.bfloat16)
            c = torch.full((M + 1, N), float("nan")).to(torch.bfloat16)
            try:
                mods[name].launch(a, b, c[:M], *extra)
            except Exception as e:  # noqa: BLE001
                result(False, what, "raised " + repr(e)[:300])
                continue
            guard = bool(c[M].isnan().all())
            if mode == "skeletons":
                result(bool(c.isnan().all()), what + ": runs, output untouched", "C was written")
            else:
                e = rel_err(c[:M], a.double() @ b.double().T)
                result(e < 1e-2 and guard, what + ": rel. error %.1e, row past C untouched" % e,
                       "error %.2e, guard row %s" % (e, "intact" if guard else "WRITTEN"))

    # -- FlashAttention forward.
    flash_cases = [(1, 1, 1, 1, 64, 0), (1, 1, 1, 1, 64, 1), (2, 3, 33, 77, 128, 0), (1, 2, 5, 131, 64, 1),
                   (1, 1, 200, 70, 128, 1), (1, 2, 129, 65, 128, 0), (1, 2, 129, 65, 128, 1), (1, 1, 70, 200, 64, 1)]
    name = "03_triton_flash.py"
    for B, H, Sq, Skv, D, causal in flash_cases if name in mods else ():
        what = "03_triton_flash B%d H%d Sq%d Skv%d D%d causal=%d" % (B, H, Sq, Skv, D, causal)
        q = torch.randn(B, H, Sq, D).to(torch.bfloat16)
        k = torch.randn(B, H, Skv, D).to(torch.bfloat16)
        v = torch.randn(B, H, Skv, D).to(torch.bfloat16)
        o = torch.full((B, H, Sq, D), float("nan")).to(torch.bfloat16)
        lse = torch.full((B, H, Sq), float("nan"))
        try:
            mods[name].launch(q, k, v, o, lse, causal)
        except Exception as e:  # noqa: BLE001
            result(False, what, "raised " + repr(e)[:300])
            continue
        if mode == "skeletons":
            result(bool(o.isnan().all() and lse.isnan().all()), what + ": runs, outputs untouched", "written")
            continue
        s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(D)
        if causal:
            i = torch.arange(Sq)[:, None]
            j = torch.arange(Skv)[None, :]
            s = s.masked_fill(~(j <= i + (Skv - Sq)), float("-inf"))
        ref_lse = torch.logsumexp(s, -1)
        ref_o = torch.nan_to_num(torch.exp(s - ref_lse[..., None]), nan=0.0) @ v.double()
        seen = torch.isfinite(ref_lse)
        e = rel_err(o, ref_o)
        lse_err = (lse.double()[seen] - ref_lse[seen]).abs().max().item() if bool(seen.any()) else 0.0
        empty_ok = bool((lse[~seen] == float("-inf")).all()) and bool((o[~seen] == 0).all())
        note = ", %d rows see no key" % int((~seen).sum()) if not bool(seen.all()) else ""
        result(e < 1e-2 and lse_err < 1e-3 and empty_ok,
               what + ": O rel. error %.1e, lse max error %.1e%s" % (e, lse_err, note),
               "O %.2e, lse %.2e, empty rows %s" % (e, lse_err, "right" if empty_ok else "WRONG"))

    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
