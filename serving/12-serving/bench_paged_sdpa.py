#!/usr/bin/env python3
"""Session 12's yardstick for paged decode (04, 05): PyTorch SDPA over the gathered cache.

`make bench` runs every session's bench_*.py after its check. PyTorch has no paged attention of its
own, so this does what a framework without one would: gather each sequence's scattered blocks into
contiguous K and V (timed apart: that copy is the price of not reading the pages in place), then
time torch.nn.functional.scaled_dot_product_attention on one query token per sequence, with grouped
heads (enable_gqa=True; repeat_interleave of K and V where PyTorch predates it), BF16, on the two
shapes the exercises are timed at: batch 32 x context 4096 and batch 1 x context 32768 (32 query
heads, 8 KV heads, head dim 128). The lengths are the grader's: the first sequence max_context, the
others spread over the top quarter, so the padded batch needs a key mask; each backend PyTorch has
is tried with it, and a row "dense" runs every sequence at max_context without a mask.

Bytes are counted as the grader counts them (each valid token's key and value once per KV head, q
and out), so the GB/s compare with `make check`'s; the gather row counts what it reads and writes.

Without PyTorch, or without a CUDA GPU, it says so in one line and exits 0: the bench goes on.

    python3 serving/12-serving/bench_paged_sdpa.py [--out DIR] [--reps N]
"""
import argparse
import json
import os
import statistics
import sys

PAGE = 16
SHAPES = [(32, 32, 8, 128, 4096), (1, 32, 8, 128, 32768)]  # (batch, Hq, Hkv, head dim, max_context)


def lengths(batch, max_context):
    """grader/serving_paged.c's lengths for contexts from 4096 up: sequence 0 holds max_context,
    sequence j the fixed length max_context - j * max_context / (4 * batch)."""
    return [max_context] + [max_context - (j * max_context) // (4 * batch) for j in range(1, batch)]


def time_ms(torch, fn, reps):
    """Median of `reps` timed calls, each between CUDA events, after three warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="directory for paged-sdpa.jsonl and paged-sdpa.md (default: print only)")
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("bench_paged_sdpa: python3 has no PyTorch; the paged SDPA comparison is skipped")
        return 0
    if not torch.cuda.is_available():
        print("bench_paged_sdpa: PyTorch sees no CUDA GPU; the paged SDPA comparison is skipped")
        return 0
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        print(f"bench_paged_sdpa: PyTorch {torch.__version__} lacks torch.nn.attention (2.3 or newer needed); skipped")
        return 0

    backends = [("flash", SDPBackend.FLASH_ATTENTION), ("cuDNN", SDPBackend.CUDNN_ATTENTION),
                ("mem-efficient", SDPBackend.EFFICIENT_ATTENTION), ("math", SDPBackend.MATH)]
    gpu = torch.cuda.get_device_name()
    rows, records = [], []

    def record(what, shape, ms, nbytes, note=""):
        gbs = nbytes / (ms * 1e-3) / 1e9
        b, hq, hkv, d, ctx = shape
        rows.append(f"| {what} | {b}x{hq}x{hkv}x{d}x{ctx} | {ms:.3f} ms | {gbs:.0f} GB/s | {note} |")
        records.append({"schema": "kernel-workbook-paged-sdpa/1", "gpu": gpu, "torch": torch.__version__,
                        "what": what, "shape": list(shape), "median_ms": ms, "bytes": nbytes, "gbs": gbs})

    for shape in SHAPES:
        b, hq, hkv, d, ctx = shape
        lens = lengths(b, ctx)
        max_blocks = (ctx + PAGE - 1) // PAGE
        pages = [(n + PAGE - 1) // PAGE for n in lens]
        used = sum(pages)
        num_blocks = b * max_blocks + (b * max_blocks) // 8 + 1  # as the grader's cache: some blocks unused
        gen = torch.Generator(device="cuda").manual_seed(12)
        k_cache = torch.randn(num_blocks, hkv, PAGE, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        v_cache = torch.randn(num_blocks, hkv, PAGE, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        q = torch.randn(b, hq, 1, d, device="cuda", dtype=torch.bfloat16, generator=gen)
        perm = torch.randperm(num_blocks, device="cuda", generator=gen)[:used]
        table = torch.zeros(b, max_blocks, dtype=torch.long, device="cuda")  # padding pages read block 0, masked
        at = 0
        for i, n in enumerate(pages):
            table[i, :n] = perm[at:at + n]
            at += n
        positions = torch.arange(max_blocks * PAGE, device="cuda")
        mask = (positions[None, :] < torch.tensor(lens, device="cuda")[:, None])[:, None, None, :]  # B x 1 x 1 x L

        def gather():
            # [B, max_blocks, Hkv, 16, D] -> [B, Hkv, max_blocks * 16, D], contiguous
            k = k_cache[table].permute(0, 2, 1, 3, 4).reshape(b, hkv, max_blocks * PAGE, d)
            v = v_cache[table].permute(0, 2, 1, 3, 4).reshape(b, hkv, max_blocks * PAGE, d)
            return k, v

        gather_bytes = 2 * 2 * (2 * b * hkv * max_blocks * PAGE * d)  # K and V, read and written
        record("gather the pages (index + copy)", shape, time_ms(torch, gather, args.reps), gather_bytes,
               "read and written, padded to max_context")
        k, v = gather()
        tokens = sum(lens)
        # The grader's byte count (grader/serving_paged.c): valid tokens' K and V per KV head, q and out.
        kv_bytes = 2 * 2 * tokens * hkv * d + 2 * 2 * b * hq * d + 4 * used + 4 * b
        dense_bytes = 2 * 2 * b * ctx * hkv * d + 2 * 2 * b * hq * d
        try:
            F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            gqa = {"enable_gqa": True}
            kk, vv, gqa_note = k, v, "enable_gqa"
        except (TypeError, RuntimeError):  # before PyTorch 2.5: each KV head repeated for its group's query heads
            gqa = {}
            kk, vv = k.repeat_interleave(hq // hkv, dim=1), v.repeat_interleave(hq // hkv, dim=1)
            gqa_note = "K, V repeat_interleave'd (no enable_gqa)"
        for name, backend in backends:
            for dense in (False, True):
                if dense and name != "flash":
                    continue
                kd, vd = (kk[:, :, :ctx], vv[:, :, :ctx]) if dense else (kk, vv)

                def run():
                    with sdpa_kernel([backend]):
                        F.scaled_dot_product_attention(q, kd, vd, attn_mask=None if dense else mask, **gqa)
                what = f"PyTorch SDPA {name}" + (", dense (all max_context)" if dense else ", ragged (key mask)")
                try:
                    ms = time_ms(torch, run, args.reps)
                except (RuntimeError, NotImplementedError, ValueError) as e:  # a backend this GPU, build or mask lacks
                    reason = str(e).strip().splitlines()[0][:90]
                    rows.append(f"| {what} | {b}x{hq}x{hkv}x{d}x{ctx} | - | - | not available: {reason} |")
                    continue
                record(what, shape, ms, dense_bytes if dense else kv_bytes, gqa_note)
        del k_cache, v_cache, k, v, kk, vv, q
        torch.cuda.empty_cache()

    table_md = [f"PyTorch {torch.__version__} on {gpu}: decode attention over a paged cache gathered first, BF16, "
                f"median of {args.reps} (shape B x Hq x Hkv x D x max_context; GB/s on the grader's byte count):",
                "", "| what | shape | time | rate | note |", "|---|---|---|---|---|"] + rows
    print("\n".join(table_md))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "paged-sdpa.jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")
        with open(os.path.join(args.out, "paged-sdpa.md"), "w") as f:
            f.write("\n".join(table_md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
