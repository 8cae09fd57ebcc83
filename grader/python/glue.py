"""The Python side of the grader's embedded interpreter (session 11's Triton and CuTe DSL exercises).

The C check owns the inputs, the timing and the verdict, as for every exercise. In the process that
runs one exercise it starts an interpreter, calls load() once and then call() for each launch, with
device pointers and its stream. What is here only hands those to the student's launcher:

  load(path, device)  checks the file against policy.py, starts what it imports (PyTorch and Triton,
                      which launches on PyTorch's current stream; or the CuTe DSL, its caches and
                      dumps sent to the build's kernel cache), installs an audit hook, and runs the
                      file in a namespace whose builtins and imports are cut down to what a
                      launcher needs;
  call(stream, args)  wraps each pointer in a DeviceArray (shape, strides, dtype, data_ptr: what a
                      Triton kernel needs, and no PyTorch operations) and the stream, where the
                      launcher takes it, in a CUstream (the CuTe DSL's launches name their stream),
                      makes the grader's stream current, and calls launch(*args).

Both return None when all went well, else (verdict, one-line message); a launch's traceback is
printed, and the check shows what the code under test printed.
"""
import builtins
import math
import os
import sys
import traceback

from policy import CUTEDSL_MODULES, findings, frameworks

# Builtins a launcher may use: arithmetic, containers, printing, the usual exceptions.
SAFE_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "int", "isinstance", "len", "list",
    "max", "min", "pow", "print", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
    "True", "False", "None", "Exception", "ValueError", "TypeError", "RuntimeError", "AssertionError",
    "NotImplementedError", "IndexError", "KeyError", "ZeroDivisionError", "ArithmeticError",
)
ALLOWED_IMPORTS = ("triton", "triton.language", "math") + tuple(sorted(CUTEDSL_MODULES))
# The CuTe DSL rewrites each @cute.jit / @cute.kernel function and runs the rewrite in the file's
# namespace; the rewrite opens with `import cutlass.base_dsl as __base_dsl__`. The file itself may
# not say that (policy.py refuses the module and the names), so the guard lets only this one through.
DSL_REWRITE_IMPORTS = ("cutlass.base_dsl",)
# and the rewrite calls these builtins (loop-carried values are read back with locals(), a value's
# kind checked with type()): in a CuTe DSL file's namespace, beyond SAFE_BUILTINS, and still names
# the file itself may not say (policy.py).
DSL_REWRITE_BUILTINS = ("locals", "type")

# Audit events refused once the student's file runs: raw memory and libraries (ctypes), the network,
# other programs and processes, new code objects, tracing, and hooks of its own.
REFUSED_EVENTS = ("ctypes.", "socket.", "os.system", "os.spawn", "os.fork",
                  "os.forkpty", "os.kill", "os.killpg", "code.__new__", "function.__new__", "sys.addaudithook",
                  "sys.setprofile", "sys.settrace", "cpython.PyInterpreterState", "mmap.",
                  "pickle.find_class")
# (marshal.loads is not refused: every import of a compiled module reads its .pyc with it, and
# Triton imports some of its modules only at a kernel's first launch.) The CuTe DSL's own code calls
# its compiled host functions through ctypes (pointers packed by address, a function pointer called):
# ctypes events are let through when the Python code that caused them, ctypes' own frames left
# aside, is the DSL's (its package folder, which no student code can write); never from the file.
REFUSED_IMPORTS = ("ctypes", "_ctypes", "cffi")
# Events that change files: only under Triton's cache and the temporary folder (its compiler's).
# Each event: (index of a path argument, index of its dir_fd or None), as CPython audits them.
FILE_EVENTS = {"os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "os.chmod": ((0, 2),),
               "os.chown": ((0, 3),), "os.rename": ((0, 2), (1, 3)), "os.link": ((0, 2), (1, 3)),
               "os.symlink": ((1, 2),), "os.truncate": ((0, None),), "os.utime": ((0, 3),),
               "os.setxattr": ((0, None),), "os.removexattr": ((0, None),), "os.chflags": ((0, None),),
               "shutil.rmtree": ((0, 1),), "shutil.copyfile": ((1, None),), "shutil.copymode": ((1, None),),
               "shutil.copystat": ((1, None),), "shutil.move": ((0, None), (1, None)), "shutil.chown": ((0, None),),
               "shutil.make_archive": ((0, None),), "shutil.unpack_archive": ((1, None),)}
FOLLOWING_EVENTS = ("os.chmod", "os.chown", "os.truncate", "os.utime", "os.setxattr", "os.removexattr", "os.chflags")
# Programs Triton's compiler runs while it builds a kernel (the warm-up, before confinement).
COMPILERS = ("ptxas", "cc", "gcc", "clang", "g++", "c++", "x86_64-linux-gnu-gcc", "nvdisasm", "cuobjdump")

_state = {"student": False, "writable": (), "launch": None, "name": None, "streams": {}, "torch": None, "dtypes": {},
          "trusted": (), "cu_stream": None}


class PolicyError(Exception):
    pass


def _audit(event, args):
    if not _state["student"]:
        return
    if event.startswith("ctypes.") and _from_trusted_library():
        return
    if event.startswith(REFUSED_EVENTS):
        raise PolicyError("refused: %s (the grader's boundary)" % event)
    if event == "import" and args and isinstance(args[0], str) and args[0].split(".")[0] in REFUSED_IMPORTS:
        raise PolicyError("refused: importing %s" % args[0])
    # Another program: only Triton's compiler (subprocess.Popen, then os.posix_spawn or os.exec
    # underneath, each audited with the program's path).
    if event in ("subprocess.Popen", "os.posix_spawn", "os.exec"):
        exe = os.path.basename(os.fsdecode(args[0] if args[0] else (args[1][0] if args[1] else "")))
        if exe not in COMPILERS:
            raise PolicyError("refused: running %s" % exe)
    if event in ("open", "os.open") and args:
        # The audit event does not carry os.open's dir_fd: a relative path is refused for writing
        # (Triton's compiler writes by absolute paths), and chdir is refused below.
        path = _path(args[0])
        if path is not None:
            if path.startswith(("/proc", "/sys", "/dev/mem", "/dev/kmem")) or "/proc/" in path:
                raise PolicyError("refused: opening %s" % path)
            mode = args[1] if len(args) > 1 else None
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                     (isinstance(mode, int) and mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)) or \
                     (len(args) > 2 and isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            relative = not os.path.isabs(_text(args[0]) or "/")
            if writes and path != os.devnull and (relative or not _writable(path)):
                raise PolicyError("refused: writing %s" % (_text(args[0]) if relative else path))
    if event in ("os.chdir", "os.chroot"):
        raise PolicyError("refused: %s (relative paths stay the grader's)" % event)
    if event in FILE_EVENTS and args:
        # Every path the event names, each resolved against its dir_fd where it has one
        # (shutil.rmtree removes by a folder's descriptor and a bare name).
        for where, fd_at in FILE_EVENTS[event]:
            if where >= len(args):
                continue
            dir_fd = args[fd_at] if fd_at is not None and fd_at < len(args) else None
            path = _path(args[where], dir_fd, follow=event in FOLLOWING_EVENTS)
            if path is not None and not _writable(path):
                raise PolicyError("refused: %s on %s" % (event, path))


def _from_trusted_library():
    """Whether the Python code behind the current audit event, past ctypes' own frames, lies in a
    trusted library's folder (the CuTe DSL's package)."""
    if not _state["trusted"]:
        return False
    ctypes_dirs, library_dirs = _state["trusted"]
    frame = sys._getframe(2)   # 0: this function, 1: the hook, 2: where the event was raised
    while frame is not None and frame.f_code.co_filename.startswith(ctypes_dirs):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(library_dirs)


def _text(p):
    if isinstance(p, os.PathLike):
        p = os.fspath(p)
    if isinstance(p, bytes):
        p = p.decode("utf-8", "replace")
    return p if isinstance(p, str) else None


def _path(p, dir_fd=None, follow=True):
    """The absolute path an operation reaches: relative to dir_fd's folder when given; the last
    component followed only when the operation follows links (removing a link removes the link)."""
    p = _text(p)
    if p is None:
        return None
    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(p):   # -1: no dir_fd
        try:
            p = os.path.join(os.readlink("/proc/self/fd/%d" % dir_fd), p)
        except (OSError, TypeError):
            return "/(an unknown folder)/" + p
    if follow:
        return os.path.realpath(p)
    head, tail = os.path.split(os.path.abspath(p))
    return os.path.join(os.path.realpath(head), tail)


def _writable(path):
    return any(path == root or path.startswith(root + os.sep) for root in _state["writable"])


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0 or name not in ALLOWED_IMPORTS + DSL_REWRITE_IMPORTS:
        raise ImportError("only triton, triton.language, math and the CuTe DSL's cutlass modules may be imported "
                          "(not %s)" % name)
    return builtins.__import__(name, globals, locals, fromlist, level)


class DeviceArray:
    """A device buffer of the grader's, as a Triton kernel argument: no copy, no PyTorch operations."""
    __slots__ = ("shape", "dtype", "_ptr", "_strides", "_itemsize")

    def __init__(self, ptr, dtype, itemsize, shape):
        self._ptr, self.dtype, self._itemsize, self.shape = ptr, dtype, itemsize, tuple(shape)
        strides, step = [], 1
        for d in reversed(self.shape):
            strides.append(step)
            step *= d
        self._strides = tuple(reversed(strides))

    def data_ptr(self):
        return self._ptr

    def stride(self, dim=None):
        return self._strides if dim is None else self._strides[dim]

    def numel(self):
        return math.prod(self.shape)

    def element_size(self):
        return self._itemsize

    def __repr__(self):
        return "DeviceArray(shape=%s, dtype=%s)" % (self.shape, self.dtype)


def _dtype(name):
    """A dtype Triton recognises (it reads the name after the last '.')."""
    torch = _state["torch"]
    table = {"bf16": ("bfloat16", 2), "f32": ("float32", 4), "f16": ("float16", 2), "i32": ("int32", 4),
             "u8": ("uint8", 1), "f64": ("float64", 8)}
    tname, size = table[name]
    return (getattr(torch, tname) if torch is not None else "torch." + tname), size


def start(device, uses=("triton",)):
    """Before any student code: the folders Triton and the CuTe DSL may write, then (on a GPU) what
    the file uses: PyTorch and Triton (Triton launches on PyTorch's current stream, and device-side
    tensor descriptors need scratch memory from an allocator the grader sets), or the CuTe DSL.
    device < 0: no GPU work (the grader's own tests)."""
    import tempfile
    cache = os.environ.get("TRITON_CACHE_DIR") or os.path.expanduser("~/.triton")
    roots = [tempfile.gettempdir(), cache]
    _state["writable"] = tuple(os.path.realpath(r) for r in roots)
    if "cutlass" in uses:
        failed = start_cutedsl(os.path.join(cache, "cute-dsl"))
        if failed or device < 0 or "triton" not in uses:
            return failed
    if device < 0:
        return None
    try:
        import torch
        import triton
    except Exception as e:  # a missing package is one line, not a traceback
        return ("CRASH", "the Python exercises need PyTorch and Triton: %s (make check installs them)" % e)
    if not torch.cuda.is_available():
        return ("CRASH", "PyTorch %s sees no GPU (a CPU-only build?): Triton launches on its stream" % torch.__version__)
    _state["torch"] = torch
    torch.cuda.set_device(device)

    def scratch(size, alignment, stream):
        return torch.empty(size, dtype=torch.int8, device="cuda")
    triton.set_allocator(scratch)
    triton.runtime.driver.active.get_current_target()   # builds Triton's launcher helpers now
    return None


def start_cutedsl(folder):
    """The CuTe DSL, imported before the hook: its JIT cache and any dump it is asked for go into
    the build's kernel cache (the DSL's defaults are the temporary folder and the working folder),
    and its calls through ctypes are trusted (see REFUSED_EVENTS). No GPU is needed to compile."""
    os.environ["CUTE_DSL_CACHE_DIR"] = folder
    os.environ["CUTE_DSL_DUMP_DIR"] = folder
    try:
        os.makedirs(folder, exist_ok=True)
        import ctypes
        import cuda.bindings.driver as driver
        import cutlass
        import cutlass.cute
        import cutlass.cute.runtime  # noqa: F401
        import cutlass.pipeline  # noqa: F401
        import cutlass.utils  # noqa: F401
    except Exception as e:  # a missing package is one line, not a traceback
        return ("CRASH", "the CuTe DSL exercise needs nvidia-cutlass-dsl: %s (make check installs it)" % e)
    # (each folder as imported and as resolved: a frame names its file as it was imported)
    def folders(path):
        return tuple({f(path) + os.sep for f in (os.path.abspath, os.path.realpath)})
    dsl = os.path.dirname(os.path.dirname(cutlass.__file__))   # .../dsl_packages, above cutlass/
    _state["trusted"] = (folders(os.path.dirname(ctypes.__file__)), folders(dsl))
    _state["cu_stream"] = driver.CUstream
    return None


def load(path, device=-1):
    """Run the student's file; its launch() is what call() calls. None, or (verdict, message)."""
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except FileNotFoundError:
        rel = os.path.join(*os.path.abspath(path).split(os.sep)[-3:])   # ladder/11-abstractions/NN_name.py
        return ("NOT_SUBMITTED", "%s is missing: get the skeleton back with 'git checkout -- %s', or from the "
                "bundle you were given" % (os.path.basename(path), rel))
    except (OSError, UnicodeDecodeError) as e:
        return ("CRASH", "%s cannot be read: %s" % (os.path.basename(path), e))
    found = findings(source, os.path.basename(path))
    if found:
        more = " (and %d more)" % (len(found) - 1) if len(found) > 1 else ""
        for line in found:
            print(line)
        return ("COMPILE_ERROR" if ": syntax error:" in found[0] else "DISQUALIFIED", found[0] + more)
    uses = frameworks(source) or {"triton"}
    failed = start(device, uses)
    if failed:
        return failed
    if _audit not in _state.get("hooks", ()):
        sys.addaudithook(_audit)
        _state["hooks"] = (_audit,)
    names = SAFE_BUILTINS + (DSL_REWRITE_BUILTINS if "cutlass" in uses else ())
    restricted = {n: getattr(builtins, n) for n in names if hasattr(builtins, n)}
    restricted["__import__"] = _guarded_import
    restricted["__build_class__"] = builtins.__build_class__
    namespace = {"__name__": "student_" + name, "__file__": path, "__builtins__": restricted}
    _state["student"] = True
    try:
        code = compile(source, path, "exec")
        exec(code, namespace)
    except Exception as e:
        _print_student_traceback(e)
        return ("CRASH", "%s raised %s while loading: %s" % (os.path.basename(path), type(e).__name__, e))
    launch = namespace.get("launch")
    if not callable(launch):
        return ("CRASH", "%s defines no launch() function" % os.path.basename(path))
    _state["launch"], _state["name"] = launch, os.path.basename(path)
    return None


def _print_student_traceback(e):
    """The traceback from the student's code down (this file's own frame left out), at most 6 frames."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb, limit=-6)


def _stream_context(stream):
    torch = _state["torch"]
    if torch is None or not torch.cuda.is_available():
        return _NoStream()
    s = _state["streams"].get(stream)
    if s is None:
        s = _state["streams"][stream] = torch.cuda.ExternalStream(stream)
    return torch.cuda.stream(s)


class _NoStream:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def call(stream, args):
    """Launch: args are ("t", pointer, dtype name, shape) for a buffer, ("s", stream) for the stream,
    or a plain int."""
    values = []
    for a in args:
        if isinstance(a, tuple) and a[0] == "s":
            values.append(_state["cu_stream"](a[1]) if _state["cu_stream"] else a[1])
        elif isinstance(a, tuple):
            dtype, size = _dtype(a[2])
            values.append(DeviceArray(a[1], dtype, size, a[3]))
        else:
            values.append(a)
    try:
        with _stream_context(stream):
            _state["launch"](*values)
    except Exception as e:
        _print_student_traceback(e)
        return ("CRASH", "%s's launch raised %s: %s" % (_state["name"], type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
    return None
