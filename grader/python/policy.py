"""What a student's Python exercise file may say (session 11: Triton, the CuTe DSL), checked on its
syntax tree.

The C grader owns inputs, timing and verdict; the file owns only its launcher and kernels. So the
file may import Triton or the CuTe DSL (cutlass), and math, and nothing else, may not reach Python's
machinery for getting around that (names that begin with '_', eval, open, getattr, ...), and may not
use the parts of either that time, autotune, talk to the driver, or write files. The loader
(glue.py) enforces imports again at run time and an audit hook refuses ctypes, sockets and /proc;
this file is what a student reads when a file is refused, one line per finding.

    python3 policy.py FILE.py    prints the findings, exit status 1 when there are any
"""
import ast
import sys

ALLOWED_MODULES = {"triton", "triton.language", "math"}
# The CuTe DSL (exercise 05): the language, its Hopper copy and MMA atoms, pipelines and helpers.
CUTEDSL_MODULES = {"cutlass", "cutlass.cute", "cutlass.cute.nvgpu", "cutlass.cute.nvgpu.cpasync",
                   "cutlass.cute.nvgpu.warpgroup", "cutlass.cute.nvgpu.warp", "cutlass.cute.runtime",
                   "cutlass.pipeline", "cutlass.utils", "cutlass.utils.hopper_helpers", "cutlass.memory"}
ALLOWED_MODULES |= CUTEDSL_MODULES
ALLOWED_TEXT = "only triton, triton.language, math and the CuTe DSL's cutlass modules may be imported"

# Builtins that evaluate strings, open files, or reach objects by name.
FORBIDDEN_CALLS = {
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals",
    "vars", "dir", "type", "object", "super", "input", "breakpoint", "memoryview", "help", "exit", "quit",
    "classmethod", "staticmethod", "property", "id",
}

# Parts of Triton a launcher has no business with: its own timer and autotuner (the grader times),
# its runtime and driver (streams, raw launches), its compiler and tools, its global settings.
FORBIDDEN_TRITON = {
    "testing", "runtime", "tools", "backends", "compiler", "knobs", "profiler", "set_allocator",
    "autotune", "driver", "experimental",
    # a kernel's own machinery: its compiled launchers take a raw stream (kernel.device_caches[...].run)
    "device_caches", "cache", "run", "warmup", "preload", "launcher", "fn", "src", "params",
    # modules that Triton's own modules import, reachable as their attributes (triton.language.core.os)
    "os", "sys", "subprocess", "shutil", "importlib", "inspect", "builtins", "ctypes", "torch", "io", "pathlib",
    "socket", "threading", "multiprocessing", "pickle", "marshal", "gc", "signal", "tempfile", "glob", "code",
    "runpy", "pkgutil", "types", "weakref", "functools", "textwrap", "ast", "dis", "numpy", "np",
}
# The CuTe DSL's own: its timer (testing), its compiler's insides (MLIR's ir and dialects, base_dsl,
# cutlass_dsl), the driver (cuda), a compiled function's raw launcher and its exports to files,
# in-kernel tracing, and the frameworks it bridges to.
FORBIDDEN_TRITON |= {
    "base_dsl", "cutlass_dsl", "ir", "dialects", "cuda", "jax", "tvm_ffi", "profiling", "iket",
    "export", "export_to_c", "dump_to_object", "load_from_binary", "load_module", "compile_to",
    "to_precompiled_mlir", "engine", "capi_func", "jit_module", "execution_args", "generate_execution_args",
    "run_compiled_program", "JitArgAdapterRegistry", "distributed", "make_fake_stream",
}
# A compile's options: files the compiler itself writes (dumps, remarks, PTX and cubin by path),
# libraries it links and flags it hands to ptxas, beyond the reach of the audit hook (native code).
FORBIDDEN_OPTIONS = {
    "options", "trace_finalize_hooks", "CompileOptions", "KeepPTX", "KeepCUBIN", "KeepSASS", "DumpDir",
    "LinkLibraries", "PtxasOptions", "ExtraCompilerOpts", "RemarkOutput", "RemarkFilter", "WarningsFilter",
    "FlattenLocsOutputJsonPath", "HostTarget", "GPUArch", "NvdisasmOptions", "CollectCompilerDiagnostics",
    "GenerateLineInfo", "EnableAssertions",
}

# Inside a kernel, what the CUDA files' scanner refuses too: reading a clock (a kernel that knows
# the time can tell when it is timed), and inline PTX, whose text a file can build at run time, so
# that no rule can read it (session 11 needs none).
CLOCK = "a clock: a kernel may not read the time (it could tell when it is being timed)"
FORBIDDEN_DEVICE = {
    "inline_asm_elementwise": "inline PTX, whose text the policy cannot check (session 11 needs none)",
    "globaltimer": CLOCK,
    "clock": CLOCK,
    # the CuTe DSL's: cute.arch's clocks, and inline PTX through its LLVM and NVVM wrappers
    "clock64": CLOCK,
    "globaltimer_lo": CLOCK,
    "inline_asm": "inline PTX, whose text the policy cannot check (session 11 needs none)",
    "llvm": "the LLVM dialect (inline PTX, raw operations): session 11 needs none",
    "nvvm": "NVVM's raw operations (special registers, clocks): cute.arch says what a kernel needs",
    "nvvm_wrappers": "NVVM's raw operations (special registers, clocks): cute.arch says what a kernel needs",
}


OPTIONS_TEXT = "a compile takes no options (its compiler writes files and runs tools the grader cannot confine)"


def _module_allowed(name):
    return name in ALLOWED_MODULES


def frameworks(source):
    """The frameworks a file imports, as the loader starts them: a subset of {"triton", "cutlass"}
    (nothing for a file that does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        found |= {n.split(".")[0] for n in names} & {"triton", "cutlass"}
    return found


def findings(source, filename="<file>"):
    """The policy's findings for one file's text: a list of 'FILE:LINE: what' strings."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as e:
        return ["%s:%s: syntax error: %s" % (filename, e.lineno or 0, e.msg)]
    out = []

    def say(node, what):
        out.append("%s:%d: %s" % (filename, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.asname and alias.asname.startswith("_"):
                    say(node, "imports as %s: names that begin with '_' are the interpreter's" % alias.asname)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _module_allowed(alias.name):
                    say(node, "imports %s: %s" % (alias.name, ALLOWED_TEXT))
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level or not _module_allowed(mod):
                say(node, "imports from %s: %s" % ("." * node.level + mod, ALLOWED_TEXT))
            for alias in node.names:
                if alias.name == "*":
                    say(node, "imports * from %s: name what you use" % mod)
                elif alias.name.startswith("_") or alias.name in FORBIDDEN_TRITON:
                    say(node, "imports %s from %s, which a launcher may not use" % (alias.name, mod))
                elif alias.name in FORBIDDEN_DEVICE:
                    say(node, "imports %s from %s: %s" % (alias.name, mod, FORBIDDEN_DEVICE[alias.name]))
                elif alias.name in FORBIDDEN_OPTIONS:
                    say(node, "imports %s from %s: %s" % (alias.name, mod, OPTIONS_TEXT))
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                say(node, "uses the name %s: names that begin with '_' are the interpreter's" % node.id)
            elif node.id in FORBIDDEN_CALLS:
                say(node, "uses %s, which reaches around the grader" % node.id)
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                say(node, "uses the attribute .%s: attributes that begin with '_' are the interpreter's" % node.attr)
            elif node.attr in FORBIDDEN_TRITON:
                say(node, "uses .%s: the grader times, tunes and launches; the file only computes" % node.attr)
            elif node.attr in FORBIDDEN_DEVICE:
                say(node, "uses .%s: %s" % (node.attr, FORBIDDEN_DEVICE[node.attr]))
            elif node.attr in FORBIDDEN_OPTIONS:
                say(node, "uses .%s: %s" % (node.attr, OPTIONS_TEXT))
        elif isinstance(node, ast.keyword) and node.arg in FORBIDDEN_OPTIONS:
            say(node, "passes %s=: %s" % (node.arg, OPTIONS_TEXT))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Attribute, ast.Name)) and \
                getattr(node.value, "attr", getattr(node.value, "id", None)) == "compile":
            say(node, "gives compile[...] options: %s" % OPTIONS_TEXT)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            say(node, "declares %s: a launcher keeps no state between calls" % ", ".join(node.names))
        elif isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
            say(node, "is asynchronous: the launcher runs to its end on the grader's stream")
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = node.args
            for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                if a is not None and a.arg.startswith("_"):
                    say(node, "has a parameter %s: names that begin with '_' are the interpreter's" % a.arg)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_"):
                say(node, "defines %s: names that begin with '_' are the interpreter's" % node.name)
        elif isinstance(node, ast.ClassDef):
            say(node, "defines a class: a launcher and its kernels are functions")
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: policy.py FILE.py")
        return 64
    try:
        with open(argv[1], encoding="utf-8") as f:
            source = f.read()
    except (OSError, UnicodeDecodeError) as e:
        print("%s: cannot be read: %s" % (argv[1], e))
        return 2
    found = findings(source, argv[1])
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
