# hana: a CuTe DSL kernel that reads the clock, to learn when it is being timed (and could then
# skip work); the policy refuses the clock in any kernel.
import cutlass
import cutlass.cute as cute
from cutlass.cute.runtime import make_ptr

COMPILED = {}


@cute.kernel
def stamp(out: cute.Tensor):
    i = cute.arch.thread_idx()[0]
    t = cute.arch.clock64()
    out[i] = cutlass.BFloat16(t % 2)


@cute.jit
def host(p: cute.Pointer, n: cutlass.Int32, stream):
    stamp(cute.make_tensor(p, cute.make_layout(n))).launch(grid=[1, 1, 1], block=[32, 1, 1], stream=stream)


def launch(a, b, c, stream):
    p = make_ptr(cutlass.BFloat16, c.data_ptr(), cute.AddressSpace.gmem, assumed_align=16)
    f = COMPILED.get(0)
    if f is None:
        f = COMPILED[0] = cute.compile(host, p, cutlass.Int32(32), stream)
    f(p, cutlass.Int32(32), stream)
