"""grader/python/glue.py without a GPU: the audit hook's refusals, the import guard, and load()'s
verdicts for files that break the rules (each load in a process of its own: a load installs the
hook for good). Ends with 'N passed, N failed'; exit status 1 on a failure.
    glue_test.py                run the tests
    glue_test.py load FILE      (internal) print load()'s answer for FILE"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "grader", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tally import finish, result  # noqa: E402
import glue  # noqa: E402

if len(sys.argv) == 3 and sys.argv[1] == "load":
    print(glue.load(sys.argv[2], -1))
    sys.exit(0)



def refused(event, args):
    try:
        glue._audit(event, args)
        return False
    except glue.PolicyError:
        return True


glue._state["writable"] = (os.path.realpath(tempfile.gettempdir()),)
glue._state["student"] = False
result(not refused("ctypes.dlopen", ("libc.so.6",)), "before the student's file runs, the hook refuses nothing")
glue._state["student"] = True
for event, args, what in [
    ("ctypes.dlopen", ("libc.so.6",), "ctypes loading a library"),
    ("ctypes.addressof", (None,), "ctypes taking an address"),
    ("ctypes.cdata", (0x1000,), "ctypes reading memory at an address"),
    ("socket.connect", (None, ("1.2.3.4", 80)), "a socket"),
    ("os.system", (b"id",), "os.system"),
    ("os.exec", ("/bin/sh", ["sh"], None), "exec"),
    ("os.posix_spawn", ("/bin/sh", ["sh", "-c", "id"], {}), "posix_spawn of a shell"),
    ("os.posix_spawn", (b"/usr/bin/python3", [b"python3"], {}), "posix_spawn of python (bytes path)"),
    ("os.fork", (), "fork"),
    ("os.kill", (1, 9), "a signal to another process"),
    ("subprocess.Popen", ("/bin/sh", ["sh", "-c", "id"], None, None), "running a shell"),
    ("open", ("/proc/self/mem", "rb", 0), "opening /proc/self/mem"),
    ("open", ("/proc/1/environ", "r", 0), "opening another process's /proc"),
    ("open", ("/home/someone/results.jsonl", "a", 0), "appending to a file outside the temporary and cache folders"),
    ("open", ("/etc/passwd", None, os.O_WRONLY), "os.open for writing outside them"),
    ("os.remove", ("/etc/hosts",), "removing a file outside them"),
    ("os.rename", ("/etc/a", "/etc/b", -1, -1), "renaming outside them"),
    ("os.rename", (os.path.join(tempfile.gettempdir(), "x"), "/etc/hosts", -1, -1), "renaming a file of the temporary folder over one outside"),
    ("os.link", (os.path.join(tempfile.gettempdir(), "x"), "/etc/y", -1, -1), "a hard link made outside them"),
    ("os.symlink", (os.path.join(tempfile.gettempdir(), "x"), "/etc/y", -1), "a symbolic link made outside them"),
    ("open", ("results.jsonl", "w", 0), "writing by a relative path (os.open's dir_fd is not audited)"),
    ("os.chdir", ("/tmp",), "changing the working folder"),
    ("os.utime", ("/etc/hosts", None, None, -1), "touching a file outside them"),
    ("shutil.rmtree", ("/etc", None), "shutil.rmtree outside them"),
    ("import", ("ctypes", None, None, None, None), "importing ctypes"),
    ("sys.addaudithook", (), "a hook of its own"),
    ("sys.settrace", (None,), "a tracer"),
    ("code.__new__", (None,) * 6, "a code object made by hand"),
]:
    result(refused(event, args), "refused once the student's file runs: " + what)
tmp = os.path.join(tempfile.gettempdir(), "kernel-workbook-glue-test")
for event, args, what in [
    ("subprocess.Popen", ("/usr/local/cuda/bin/ptxas", ["ptxas"], None, None), "Triton running ptxas"),
    ("os.posix_spawn", ("/usr/local/cuda/bin/ptxas", ["ptxas", "-v"], {}), "posix_spawn of ptxas"),
    ("os.exec", (b"/opt/triton/bin/ptxas", [b"ptxas"], None), "exec of ptxas (bytes path)"),
    ("open", (tmp, "w", 0), "writing in the temporary folder (Triton's compiler)"),
    ("open", (os.path.join(ROOT, "grader", "python", "glue.py"), "r", 0), "reading a file"),
    ("os.rename", (tmp, tmp + ".2", -1, -1), "renaming in the temporary folder (Triton's cache)"),
    ("open", (os.devnull, None, os.O_RDWR), "opening /dev/null for writing (subprocess's DEVNULL)"),
    ("os.remove", (tmp, -1), "removing a file of the temporary folder"),
]:
    result(not refused(event, args), "allowed: " + what)
# The real thing, as Triton runs ptxas (subprocess.run with close_fds=False, which takes
# os.posix_spawn where it can): a program named ptxas runs, a shell does not.
fake_bin = tempfile.mkdtemp()
ptxas = os.path.join(fake_bin, "ptxas")
with open(ptxas, "w") as f:
    f.write("#!/bin/sh\nexit 0\n")
os.chmod(ptxas, 0o755)
glue._state["student"] = False
sys.addaudithook(glue._audit)
glue._state["student"] = True
try:
    rc = subprocess.run([ptxas, "--version"], close_fds=False).returncode
    result(rc == 0, "subprocess.run of a program named ptxas goes through the hook (Triton's compile)", "exit %s" % rc)
except glue.PolicyError as e:
    result(False, "subprocess.run of a program named ptxas goes through the hook (Triton's compile)", e)
try:
    subprocess.run(["/bin/sh", "-c", "exit 0"], close_fds=False)
    result(False, "subprocess.run of a shell is refused by the hook")
except glue.PolicyError:
    result(True, "subprocess.run of a shell is refused by the hook")
# A name relative to a folder's descriptor (how shutil.rmtree removes) is judged in that folder.
glue._state["student"] = False
base = tempfile.mkdtemp()   # (the workbook itself may lie in the temporary folder: CI's clone does)
protected, inside = os.path.join(base, "protected"), os.path.join(base, "inside")
os.mkdir(protected)
os.mkdir(inside)
victim = os.path.join(protected, "victim")
open(victim, "w").close()
open(os.path.join(inside, "victim"), "w").close()
writable = glue._state["writable"]
glue._state["writable"] = (os.path.realpath(inside),)   # for these: only `inside` may change
glue._state["student"] = True
fd = os.open(protected, os.O_RDONLY)
try:
    os.remove("victim", dir_fd=fd)
    result(False, "os.remove of a name relative to a protected folder's descriptor is refused")
except glue.PolicyError:
    result(os.path.exists(victim), "os.remove of a name relative to a protected folder's descriptor is refused")
os.close(fd)
fd = os.open(inside, os.O_RDONLY)
try:
    os.remove("victim", dir_fd=fd)
    result(not os.path.exists(os.path.join(inside, "victim")), "os.remove by a temporary folder's descriptor is allowed")
except glue.PolicyError as e:
    result(False, "os.remove by a temporary folder's descriptor is allowed", e)
os.close(fd)
# A link in a protected folder that points into the temporary one: removing it removes the link.
link = os.path.join(protected, "link")
glue._state["student"] = False
os.symlink(os.path.join(inside, "target"), link)
glue._state["student"] = True
try:
    os.remove(link)
    result(False, "removing a protected folder's link into the temporary folder is refused")
except glue.PolicyError:
    result(os.path.islink(link), "removing a protected folder's link into the temporary folder is refused")
glue._state["writable"] = writable
# Triton's launcher, built as on the GPU at a kernel's first launch: its C compiler with stdout to
# /dev/null, in a TemporaryDirectory that shutil.rmtree removes by descriptor (the first GPU run
# of the check was refused at both).
glue._state["student"] = False
try:
    from triton.runtime.build import compile_module_from_src, platform_key
    platform_key()   # runs `file` on the interpreter; on a GPU, glue.start's driver helpers did it before the hook
except ImportError:
    compile_module_from_src = None
glue._state["student"] = True
if compile_module_from_src is not None:
    cache = tempfile.mkdtemp()
    os.environ["TRITON_CACHE_DIR"] = cache
    src = '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "__triton_launcher", 0, -1, 0};\n' \
          'PyMODINIT_FUNC PyInit___triton_launcher(void) { return PyModule_Create(&m); }\n'
    try:
        mod = compile_module_from_src(src=src, name="__triton_launcher")
        result(mod is not None, "Triton builds a launcher module through the hook (C compiler, /dev/null, rmtree)")
    except Exception as e:
        result(False, "Triton builds a launcher module through the hook (C compiler, /dev/null, rmtree)", "%s: %s" % (type(e).__name__, e))
glue._state["student"] = False
import shutil  # noqa: E402
shutil.rmtree(base)
# The CuTe DSL: started before the hook, its caches in the build's cache folder; its own code calls
# through ctypes (trusted by where the call comes from), the file's code may not.
dsl_cache = tempfile.mkdtemp()
started = glue.start_cutedsl(os.path.join(dsl_cache, "cute-dsl"))
if started is None:
    result(os.environ.get("CUTE_DSL_CACHE_DIR") == os.path.join(dsl_cache, "cute-dsl") and
           os.environ.get("CUTE_DSL_DUMP_DIR") == os.environ.get("CUTE_DSL_CACHE_DIR"),
           "the CuTe DSL's JIT cache and dumps go into the build's kernel cache folder")
    import ctypes  # noqa: E402  (before the hook: the test's own)
    import cutlass  # noqa: E402
    import cutlass.cute as cute  # noqa: E402
    from cutlass.cute.runtime import make_ptr  # noqa: E402
    glue._state["student"] = True
    try:
        make_ptr(cutlass.BFloat16, 1 << 20, cute.AddressSpace.gmem, assumed_align=16)
        result(True, "the DSL's own ctypes calls pass the hook (make_ptr keeps its address in a ctypes cell)")
    except glue.PolicyError as e:
        result(False, "the DSL's own ctypes calls pass the hook (make_ptr keeps its address in a ctypes cell)", e)
    for call, what in [(lambda: ctypes.addressof(ctypes.c_int(1)), "ctypes.addressof"),
                       (lambda: ctypes.string_at(id(glue), 8), "ctypes.string_at (reading memory)"),
                       (lambda: ctypes.CDLL(None), "ctypes.CDLL (loading a library)")]:
        try:
            call()
            result(False, "refused with the DSL loaded, from code that is not the DSL's: " + what)
        except glue.PolicyError:
            result(True, "refused with the DSL loaded, from code that is not the DSL's: " + what)
    result(refused("ctypes.dlopen", ("libc.so.6",)), "a ctypes event raised by the file's own frame is refused")
    glue._state["student"] = False
    try:
        glue._guarded_import("cutlass.base_dsl")
        result(True, "the DSL's rewrite of a kernel may import cutlass.base_dsl (the file may not say it: policy.py)")
    except ImportError as e:
        result(False, "the DSL's rewrite of a kernel may import cutlass.base_dsl", e)
    glue._state["trusted"] = ()
else:
    print("SKIP  the CuTe DSL is not installed here: %s" % started[1])
shutil.rmtree(dsl_cache, ignore_errors=True)
glue._state["student"] = False   # the hook stays, idle: the loads below start processes of their own
for name in ("os", "torch", "ctypes", "sys", "importlib", "subprocess"):
    try:
        glue._guarded_import(name)
        result(False, "the student's import statement refuses " + name)
    except ImportError:
        result(True, "the student's import statement refuses " + name)
result(glue._guarded_import("math").sqrt(4.0) == 2.0, "the student's import statement allows math")
arr = glue.DeviceArray(4096, "torch.bfloat16", 2, (3, 5))
result(arr.stride() == (5, 1) and arr.numel() == 15 and arr.data_ptr() == 4096 and arr.element_size() == 2,
       "DeviceArray: row-major strides, size, pointer", repr(arr))
try:
    arr.extra = 1
    result(False, "DeviceArray takes no new attributes")
except AttributeError:
    result(True, "DeviceArray takes no new attributes")

fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
for name, verdict, words in [
    ("01_noop.py", "None", ""),
    ("02_torch.py", "DISQUALIFIED", "02_torch.py:1: imports torch"),
    ("04_syntax.py", "COMPILE_ERROR", "syntax error"),
    ("05_no_launch.py", "CRASH", "defines no launch()"),
    ("06_absent.py", "NOT_SUBMITTED", "is missing"),
    ("07_raises_on_load.py", "CRASH", "ZeroDivisionError"),
    ("08_import_at_run_time.py", "DISQUALIFIED", "imports os"),
]:
    out = subprocess.run([sys.executable, __file__, "load", os.path.join(fixtures, name)], capture_output=True,
                         text=True, timeout=60).stdout
    last = out.strip().splitlines()[-1] if out.strip() else ""
    result(last.startswith("None") if verdict == "None" else (verdict in last and words in last),
           "load(%s): %s %s" % (name, verdict, words), out)
finish()
