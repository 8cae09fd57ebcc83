#!/usr/bin/env python3
"""The mini-model's weights file (MODEL.md, "Weights file, version 1"): write, read, cross-check.

    export.py --random OUT.bin [--seed N] [--tiny]      a randomly initialised file (deterministic)
    export.py --check FILE.bin                           read a file back: checksum, header, shapes
    export.py --weights FILE.bin --golden PROMPT OUT.txt reference numbers for the engines' tests

train.py imports write_weights() and write_golden() to export what it trained.

Number formats, done here with numpy rather than torch's own types (PyTorch 1.13 has no float8):
  bf16   the top 16 bits of the float32, rounded to nearest, ties to even
  fp8    OCP e4m3 ("e4m3fn"): sign, 4 exponent bits with bias 7, 3 mantissa bits, subnormals,
         largest value 448, no infinities (0x7f/0xff are NaN and never written)
  scale  one float32 per 128 x 128 tile of an expert matrix: max |w| over the tile / 448

Golden file format (text, one record a line, '#' starts a comment line):
  golden 1                         format version
  weights CHECKSUM                 the weights file's FNV-1a 64 checksum, 16 hex digits
  prompt_hex HEX                   the prompt's bytes
  section MODE                     MODE = bf16 (experts from the BF16 tensors) or
                                   fp8 (experts from the .fp8 tensors times their scales);
                                   every other weight is the BF16/F32 tensor in both modes
  logits POS V0 .. V255            main logits at prompt position POS (0 = first byte)
  next_token T                     greedy byte after the prompt (argmax of the last logits)
  mtp_logits V0 .. V255            MTP draft logits at the last prompt position n-1, given
                                   (h_{n-1}, next_token): the first draft step of MODEL.md
  mtp_draft_hex HEX                7 drafts chained as MODEL.md says (step j+1 takes step j's z)
  greedy_hex HEX                   40 bytes of greedy continuation after the prompt
  greedy_margin M1 .. M40          top-1 minus top-2 logit at each greedy step: a step with a
                                   margin near float rounding may legitimately differ
  end
All logits are float32, printed with 9 significant digits (enough to round-trip a float32).
They are computed in float32 on the CPU from the file's own numbers (BF16 decoded exactly, FP8
decoded and multiplied by its scale in float32), with whole-sequence attention.
"""

import argparse
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, MiniModel, tiny_config  # noqa: E402

MAGIC = b"KWMINI\x00\x01"
VERSION = 1
F32, BF16, FP8 = 0, 1, 2
DTYPE_NAMES = {F32: "f32", BF16: "bf16", FP8: "fp8"}
ENTRY_BYTES = 96
HEADER_FIXED = 92          # magic .. n_tensors
ALIGN = 64
FP8_MAX = 448.0
GOLDEN_PROMPT = "The best way to predict the future is"
GOLDEN_GREEDY = 40
GOLDEN_DRAFTS = 7


# ---- number formats -----------------------------------------------------------------------------

def bf16_bits(x):
    """float32 array -> uint16 BF16 bits, round to nearest, ties to even."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("cannot export a non-finite weight")
    u = x.view(np.uint32).astype(np.uint64)
    # Add just under half an ulp of BF16, plus one more when the kept part is odd: ties to even.
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def fp8_e4m3_table():
    """The float32 value of each of the 256 e4m3 codes (NaN for 0x7f and 0xff)."""
    vals = np.zeros(256, dtype=np.float32)
    for code in range(256):
        sign = -1.0 if code & 0x80 else 1.0
        exp, man = (code >> 3) & 0xF, code & 0x7
        if exp == 0xF and man == 0x7:
            vals[code] = np.nan
        elif exp == 0:
            vals[code] = sign * man / 8.0 * 2.0 ** -6          # subnormal
        else:
            vals[code] = sign * (1.0 + man / 8.0) * 2.0 ** (exp - 7)
    return vals


FP8_VALUES = fp8_e4m3_table()


def fp8_e4m3_encode(x):
    """float32 array with |x| <= 448 -> uint8 e4m3 codes, round to nearest, ties to even."""
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    a = np.abs(x)
    if np.any(a > FP8_MAX) or not np.all(np.isfinite(a)):
        raise ValueError("fp8 input out of range")
    # The spacing of e4m3 numbers near a: 2^(e-3) for a in [2^e, 2^(e+1)), e >= -6, and the
    # subnormal spacing 2^-9 below 2^-6. Dividing by a power of two is exact, and np.rint rounds
    # ties to even, so q is the correctly rounded count of spacings.
    _, e2 = np.frexp(a)                       # a = m * 2^e2 with m in [0.5, 1): floor(log2 a) = e2-1
    e = np.maximum(e2 - 1, -6)
    q = np.rint(a / np.exp2(e - 3))           # for normal a: 8 .. 16 (16 carries into the next exponent)
    # Codes run in value order, so "exponent field * 8 + mantissa" is continuous: for a normal
    # number it is (e + 7) * 8 + (q - 8); for a subnormal (e = -6) the same formula gives q.
    code = np.where(a < 2.0 ** -6, q, (e + 7) * 8 + (q - 8))
    code = np.minimum(code, 0x7E).astype(np.uint8)   # 448 is the largest; never NaN
    return code | np.where(x < 0, 0x80, 0).astype(np.uint8)


def fp8_quantize(w, block):
    """BF16-valued float32 matrix -> (e4m3 codes, float32 scales [ceil(r/b)][ceil(c/b)])."""
    rows, cols = w.shape
    tr, tc = -(-rows // block), -(-cols // block)
    scales = np.ones((tr, tc), dtype=np.float32)
    codes = np.zeros(w.shape, dtype=np.uint8)
    for i in range(tr):
        for j in range(tc):
            tile = w[i * block:(i + 1) * block, j * block:(j + 1) * block].astype(np.float32)
            amax = np.float32(np.abs(tile).max())
            s = np.float32(amax / np.float32(FP8_MAX)) if amax > 0 else np.float32(1.0)
            scaled = np.minimum(np.abs(tile / s), np.float32(FP8_MAX)) * np.sign(tile)
            codes[i * block:(i + 1) * block, j * block:(j + 1) * block] = fp8_e4m3_encode(scaled)
            scales[i, j] = s
    return codes, scales


def fp8_dequantize(codes, scales, block):
    """w ~= fp8 * scale, in float32, tile by tile (what an engine computes)."""
    w = FP8_VALUES[codes]
    scale_full = np.repeat(np.repeat(scales, block, axis=0), block, axis=1)
    return (w * scale_full[:w.shape[0], :w.shape[1]]).astype(np.float32)


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- what the file holds ------------------------------------------------------------------------

def block_tensors(cfg, prefix):
    """(name, dtype, shape) of one Block, MODEL.md's layers.L.* list."""
    D, H = cfg.d_model, cfg.n_heads
    t = [
        (prefix + "attn_norm", F32, (D,)),
        (prefix + "attn.wq", BF16, (H * (cfg.d_nope + cfg.d_rope), D)),
        (prefix + "attn.wkv_a", BF16, (cfg.d_latent, D)),
        (prefix + "attn.kv_norm", F32, (cfg.d_latent,)),
        (prefix + "attn.wk_rope", BF16, (cfg.d_rope, D)),
        (prefix + "attn.wk_b", BF16, (H * cfg.d_nope, cfg.d_latent)),
        (prefix + "attn.wv_b", BF16, (H * cfg.d_v, cfg.d_latent)),
        (prefix + "attn.wo", BF16, (D, H * cfg.d_v)),
        (prefix + "ffn_norm", F32, (D,)),
        (prefix + "moe.router", F32, (cfg.n_experts, D)),
        (prefix + "moe.bias", F32, (cfg.n_experts,)),
        (prefix + "moe.shared.w1", BF16, (cfg.d_shared, D)),
        (prefix + "moe.shared.w2", BF16, (D, cfg.d_shared)),
        (prefix + "moe.shared.w3", BF16, (cfg.d_shared, D)),
    ]
    for e in range(cfg.n_experts):
        for w, shape in (("w1", (cfg.d_expert, D)), ("w2", (D, cfg.d_expert)),
                         ("w3", (cfg.d_expert, D))):
            name = f"{prefix}moe.experts.{e}.{w}"
            b = cfg.fp8_block
            t += [(name, BF16, shape), (name + ".fp8", FP8, shape),
                  (name + ".scale", F32, (-(-shape[0] // b), -(-shape[1] // b)))]
    return t


def file_tensors(cfg):
    """Every tensor of the file, in the order the writer stores them: (name, dtype, shape)."""
    D = cfg.d_model
    t = [("embed", BF16, (cfg.vocab, D)), ("lm_head", BF16, (cfg.vocab, D)),
         ("final_norm", F32, (D,))]
    for layer in range(cfg.n_layers):
        t += block_tensors(cfg, f"layers.{layer}.")
    t += [("mtp.hnorm", F32, (D,)), ("mtp.enorm", F32, (D,)), ("mtp.final_norm", F32, (D,)),
          ("mtp.proj", BF16, (D, 2 * D))]
    t += block_tensors(cfg, "mtp.block.")
    return t


def model_tensor(model, name):
    """The model's float32 tensor for a file name (an expert's slice of the stacked weights)."""
    parts = name.split(".")
    if "experts" in parts:                       # ...moe.experts.E.wN -> ...moe.experts_wN[E]
        i = parts.index("experts")
        owner = model.get_submodule(".".join(parts[:i]))
        return getattr(owner, "experts_" + parts[i + 2])[int(parts[i + 1])]
    if "shared" in parts:                        # ...moe.shared.wN -> ...moe.shared_wN
        i = parts.index("shared")
        owner = model.get_submodule(".".join(parts[:i]))
        return getattr(owner, "shared_" + parts[i + 1])
    owner = model.get_submodule(".".join(parts[:-1])) if len(parts) > 1 else model
    return getattr(owner, parts[-1])


# ---- writing ------------------------------------------------------------------------------------

def encode_tensors(model):
    """The file's tensors as bytes: [(name, dtype, shape, bytes)] in file order."""
    cfg = model.cfg
    out, bf16_of = [], {}
    for name, dtype, shape in file_tensors(cfg):
        if dtype == FP8 or name.endswith(".scale"):
            base = name.rsplit(".", 1)[0]
            # The FP8 copy is made from the BF16-rounded weights, as MODEL.md says.
            codes, scales = fp8_quantize(bf16_to_f32(bf16_of[base]), cfg.fp8_block)
            data = codes if dtype == FP8 else scales
        else:
            w = model_tensor(model, name).detach().float().cpu().numpy()
            if dtype == BF16:
                data = bf16_of[name] = bf16_bits(w)
            else:
                data = w.astype(np.float32)
        assert tuple(data.shape) == shape, (name, data.shape, shape)
        little = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
        out.append((name, dtype, shape, little.tobytes()))
    return out


def write_weights(model, path):
    """Write MODEL.md's version-1 file; returns (size in bytes, checksum)."""
    cfg = model.cfg
    tensors = encode_tensors(model)
    header_bytes = HEADER_FIXED + ENTRY_BYTES * len(tensors)
    head = bytearray()
    head += MAGIC
    head += struct.pack("<II", VERSION, header_bytes)
    ints = [getattr(cfg, f) for f in Config.int_fields()] + [0]
    assert len(ints) == 16
    head += struct.pack("<16I", *ints)
    head += struct.pack("<ff", cfg.rope_theta, cfg.norm_eps)
    head += struct.pack("<I", len(tensors))
    offset, body = header_bytes, bytearray()
    for name, dtype, shape, data in tensors:
        pad = -offset % ALIGN
        body += b"\0" * pad
        offset += pad
        dims = list(shape) + [1] * (4 - len(shape))
        head += name.encode("ascii").ljust(64, b"\0")
        head += struct.pack("<II4IQ", dtype, len(shape), *dims, offset)
        body += data
        offset += len(data)
    blob = bytes(head + body)
    assert len(head) == header_bytes
    checksum = fnv1a64(blob)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)
        f.write(struct.pack("<Q", checksum))
    return len(blob) + 8, checksum


# ---- reading ------------------------------------------------------------------------------------

class WeightsFile:
    """A weights file read back and checked: cfg, checksum, and tensors[name] = numpy array
    (float32 for f32, uint16 bits for bf16, uint8 codes for fp8)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            blob = f.read()

        def fail(why):
            raise ValueError(f"{path}: {why}")

        if len(blob) < HEADER_FIXED + 8 or blob[:8] != MAGIC:
            fail("not a mini-model weights file (magic)")
        version, header_bytes = struct.unpack_from("<II", blob, 8)
        if version != VERSION:
            fail(f"version {version}, expected {VERSION}")
        (stored,) = struct.unpack_from("<Q", blob, len(blob) - 8)
        self.checksum = fnv1a64(blob[:-8])
        if stored != self.checksum:
            fail(f"checksum {stored:016x} != computed {self.checksum:016x}")
        ints = struct.unpack_from("<16I", blob, 16)
        if min(ints[:15]) == 0 or ints[15] != 0 or ints[9] > ints[8]:
            fail(f"config out of range: {ints}")
        theta, eps = struct.unpack_from("<ff", blob, 80)
        self.cfg = Config(**dict(zip(Config.int_fields(), ints)), rope_theta=theta, norm_eps=eps)
        (n,) = struct.unpack_from("<I", blob, 88)
        if header_bytes != HEADER_FIXED + ENTRY_BYTES * n:
            fail("header_bytes does not match n_tensors")
        np_types = {F32: np.dtype("<f4"), BF16: np.dtype("<u2"), FP8: np.dtype("u1")}
        self.tensors, self.dtypes = {}, {}
        for k in range(n):
            at = HEADER_FIXED + k * ENTRY_BYTES
            name = blob[at:at + 64].rstrip(b"\0").decode("ascii")
            dtype, ndim, *dims, offset = struct.unpack_from("<II4IQ", blob, at + 64)
            if dtype not in np_types or not 1 <= ndim <= 4:
                fail(f"tensor {name}: dtype {dtype} / ndim {ndim}")
            shape = tuple(dims[:ndim])
            size = int(np.prod(shape)) * np_types[dtype].itemsize
            if offset % ALIGN or offset < header_bytes or offset + size > len(blob) - 8:
                fail(f"tensor {name}: data outside the file or unaligned")
            arr = np.frombuffer(blob, np_types[dtype], int(np.prod(shape)), offset)
            self.tensors[name] = arr.reshape(shape)
            self.dtypes[name] = dtype
        for name, dtype, shape in file_tensors(self.cfg):
            if name not in self.tensors:
                fail(f"missing tensor {name}")
            if self.dtypes[name] != dtype or self.tensors[name].shape != shape:
                fail(f"tensor {name}: {DTYPE_NAMES.get(self.dtypes[name])} "
                     f"{self.tensors[name].shape}, expected {DTYPE_NAMES[dtype]} {shape}")
        self.size = len(blob)

    def f32(self, name):
        """A tensor as float32 (BF16 decoded exactly)."""
        a = self.tensors[name]
        return bf16_to_f32(a) if self.dtypes[name] == BF16 else a.astype(np.float32)


def load_model(path, experts="bf16"):
    """A float32 MiniModel holding exactly the file's numbers.

    experts="bf16": routed experts from their BF16 tensors; "fp8": from FP8 codes times scales.
    """
    wf = WeightsFile(path)
    model = MiniModel(wf.cfg)
    with torch.no_grad():
        for name, dtype, _ in file_tensors(wf.cfg):
            if dtype == FP8 or name.endswith(".scale"):
                continue
            w = wf.f32(name)
            if experts == "fp8" and ".experts." in name:
                w = fp8_dequantize(wf.tensors[name + ".fp8"], wf.tensors[name + ".scale"],
                                   wf.cfg.fp8_block)
            model_tensor(model, name).copy_(torch.from_numpy(w.copy()))
    model.eval()
    return model, wf


# ---- golden values ------------------------------------------------------------------------------

def _argmax_margin(logits):
    """Greedy choice (ties to the lowest byte: torch.argmax returns the first maximum) and the
    gap between the best and second-best logit."""
    top = torch.argmax(logits).item()
    others = logits.clone()
    others[top] = float("-inf")
    return top, (logits[top] - others.max()).item()


@torch.no_grad()
def golden_section(model, prompt):
    """The golden records of one mode, as lines of text."""
    fmt = lambda v: " ".join(f"{x:.9g}" for x in v.tolist())  # noqa: E731
    tokens = torch.tensor([list(prompt)], dtype=torch.long)
    n = tokens.shape[1]
    logits, h, _ = model.main(tokens)
    lines = [f"logits {pos} {fmt(logits[0, pos])}" for pos in range(n)]
    next_tok, _ = _argmax_margin(logits[0, -1])
    lines.append(f"next_token {next_tok}")

    # MTP: the pairs (h_i, tok_{i+1}) for i < n, the last pair using the greedy next token.
    # Whole-sequence causal attention gives each position what a cache would give it.
    seq_h = h
    seq_next = torch.cat((tokens[:, 1:], torch.tensor([[next_tok]])), dim=1)
    drafts = []
    for step in range(GOLDEN_DRAFTS):
        mtp_logits, z, _ = model.mtp_forward(seq_h, seq_next)
        if step == 0:
            lines.append(f"mtp_logits {fmt(mtp_logits[0, -1])}")
        d, _ = _argmax_margin(mtp_logits[0, -1])
        drafts.append(d)
        # The next draft step: the block's own output z as the hidden, the draft as the token.
        seq_h = torch.cat((seq_h, z[:, -1:]), dim=1)
        seq_next = torch.cat((seq_next, torch.tensor([[d]])), dim=1)
    lines.append("mtp_draft_hex " + bytes(drafts).hex())

    greedy, margins = [], []
    seq = tokens
    for _ in range(GOLDEN_GREEDY):
        logits, _, _ = model.main(seq)
        t, m = _argmax_margin(logits[0, -1])
        greedy.append(t)
        margins.append(m)
        seq = torch.cat((seq, torch.tensor([[t]])), dim=1)
    lines.append("greedy_hex " + bytes(greedy).hex())
    lines.append("greedy_margin " + " ".join(f"{m:.6g}" for m in margins))
    return lines


def write_golden(weights_path, prompt, out_path):
    """Golden values for both expert modes of a weights file; returns the greedy text (bf16)."""
    prompt = prompt.encode() if isinstance(prompt, str) else bytes(prompt)
    if not prompt:
        raise ValueError("the prompt must not be empty")
    doc = [line for line in __doc__.splitlines()]
    start = doc.index("Golden file format (text, one record a line, '#' starts a comment line):")
    lines = ["# " + line for line in doc[start:]] + ["golden 1"]
    greedy_text = None
    for mode in ("bf16", "fp8"):
        model, wf = load_model(weights_path, experts=mode)
        if mode == "bf16":
            lines += [f"weights {wf.checksum:016x}", "prompt_hex " + prompt.hex()]
        lines.append(f"section {mode}")
        section = golden_section(model, prompt)
        lines += section
        if mode == "bf16":
            hexes = [l for l in section if l.startswith("greedy_hex ")][0].split()[1]
            greedy_text = bytes.fromhex(hexes)
    lines.append("end")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return greedy_text


# ---- command line -------------------------------------------------------------------------------

def describe(wf):
    cfg = wf.cfg
    counts = {}
    for name, dtype in wf.dtypes.items():
        counts[dtype] = counts.get(dtype, 0) + wf.tensors[name].size
    return (f"{wf.size} bytes, checksum {wf.checksum:016x}, {len(wf.tensors)} tensors; "
            + ", ".join(f"{DTYPE_NAMES[d]} {counts[d]} values" for d in sorted(counts))
            + f"; d_model {cfg.d_model}, layers {cfg.n_layers}, experts {cfg.n_experts}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random", metavar="OUT", help="write a randomly initialised weights file")
    ap.add_argument("--seed", type=int, default=1234, help="seed for --random (default 1234)")
    ap.add_argument("--tiny", action="store_true", help="--random with the smoke-test shapes")
    ap.add_argument("--check", metavar="FILE", help="read FILE back and describe it")
    ap.add_argument("--weights", metavar="FILE", help="the weights file --golden reads")
    ap.add_argument("--golden", nargs=2, metavar=("PROMPT", "OUT"),
                    help="write golden values for PROMPT to OUT (needs --weights)")
    args = ap.parse_args()
    if not (args.random or args.check or args.golden):
        ap.error("nothing to do: give --random, --check or --golden")
    if args.random:
        torch.manual_seed(args.seed)
        model = MiniModel(tiny_config() if args.tiny else Config())
        model.init_weights(args.seed, scale="random")
        size, checksum = write_weights(model, args.random)
        print(f"wrote {args.random}: {size} bytes, checksum {checksum:016x}")
        print("read back:", describe(WeightsFile(args.random)))
    if args.check:
        print(f"{args.check}:", describe(WeightsFile(args.check)))
    if args.golden:
        weights = args.weights or args.random
        if not weights:
            ap.error("--golden needs --weights FILE (or --random OUT in the same call)")
        text = write_golden(weights, args.golden[0], args.golden[1])
        print(f"wrote {args.golden[1]}; greedy continuation: {text!r}")


if __name__ == "__main__":
    main()
