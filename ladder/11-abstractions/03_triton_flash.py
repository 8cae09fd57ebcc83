# Session 11, exercise 3: FlashAttention forward in Triton
#
#   O = softmax(scale * Q K^T + mask) V  and  lse = the natural log-sum-exp of each row of scores,
#   for every batch b and head h. q, o: (B, H, Sq, D) BF16; k, v: (B, H, Skv, D) BF16; lse:
#   (B, H, Sq) float32; all contiguous. scale = 1 / sqrt(D), D = 64 or 128, any Sq, Skv >= 1.
#   causal != 0: query row i sees key j iff j <= i + (Skv - Sq) (aligned to the END of the keys,
#   as decoding with a KV cache needs); a row that sees no key gets O = 0 and lse = -inf.
#   launch(q, k, v, o, lse, causal) enqueues the kernel on the current stream.
#
# Session 09's fast kernel in Triton: one program owns BM query rows of one head and streams K and
# V through in BN-row tiles; tl.dot does both products on tensor cores and Triton pipelines the
# loads. The online softmax runs in FP32 in the log2 domain (exp2, with scale * log2(e) folded into
# one multiply: qk_scale). The key range splits in two loops: tiles every row sees whole need no
# mask at all; only the few tiles on the causal diagonal or past the end of the keys pay for one,
# and tiles beyond the diagonal are never visited.
# The TODOs: the head's pointers, the two key ranges, the unmasked and the masked online-softmax
# steps, the epilogue. The launcher is given.
# Allowed here: triton, triton.language and math, nothing named with a leading underscore (the
# grader checks the file before it runs it). `make check` grades it.
import math

import triton
import triton.language as tl


@triton.jit
def flash_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, Sq, Skv, qk_scale,
                     D: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr, CAUSAL: tl.constexpr):
    bh = tl.program_id(0)  # batch * heads + head
    # The heaviest query blocks (last rows, most keys under causal) are launched first.
    start_m = (tl.num_programs(1) - 1 - tl.program_id(1)) * BM
    rows = start_m + tl.arange(0, BM)
    cols = tl.arange(0, BN)
    dims = tl.arange(0, D)

    # TODO 1: move the five pointers to this head: q_ptr and o_ptr by bh * Sq * D elements, k_ptr
    #         and v_ptr by bh * Skv * D, lse_ptr by bh * Sq (make bh 64-bit first: bh.to(tl.int64)).
    #         Then load this block's Q tile (BM x D) once: q_ptr + rows[:, None] * D + dims[None, :],
    #         masked to rows < Sq, other=0.0.

    m_i = tl.full([BM], float("-inf"), dtype=tl.float32)  # running max of the scaled scores
    l_i = tl.zeros([BM], dtype=tl.float32)  # running sum of exp2(score - m_i)
    acc = tl.zeros([BM, D], dtype=tl.float32)

    # TODO 2: the key ranges (replace the two placeholders). Key j is visible to row i iff
    #         j <= i + diag: define diag = Skv - Sq (the masked step below needs it too). hi: the end of the keys
    #         any row of this block sees, Skv without CAUSAL, else start_m + BM + diag clamped to
    #         [0, Skv]. full_end: the end of the keys EVERY row sees whole, rounded down to a
    #         multiple of BN (// BN * BN): Skv without CAUSAL, else start_m + diag + 1 clamped to
    #         [0, hi]. (tl.minimum, tl.maximum.)
    hi = 0
    full_end = 0

    # Stage 1: whole tiles, no mask. Every row has a finite max from the first tile on.
    for n0 in range(0, full_end, BN):
        keys = n0 + cols
        # TODO 3: scores. Load the K tile (BN x D rows n0.., no mask), s = tl.dot(q, tl.trans(k));
        #         the new running max m_new = max(m_i, rowmax(s) * qk_scale) (tl.max(s, 1));
        #         p = tl.math.exp2(s * qk_scale - m_new[:, None]) (one FMA and one exp2 a score).

        # TODO 4: the online-softmax update. alpha = exp2(m_i - m_new) rescales what was summed
        #         under the old max: l_i = l_i * alpha + rowsum(p); load the V tile;
        #         acc = tl.dot(p.to(tl.bfloat16), v, acc * alpha[:, None]); m_i = m_new.
        pass

    # Stage 2: the diagonal tiles and the partial last tile, masked.
    for n0 in range(full_end, hi, BN):
        keys = n0 + cols
        # TODO 5: the same step with masks. Load K and V with mask keys < Skv (other=0.0: a V row
        #         past the end times p = 0 must not make a NaN). s = dot * qk_scale, then -inf where
        #         not visible: keys < Skv and, if CAUSAL, keys[None, :] <= rows[:, None] + diag
        #         (tl.where). m_new = max(m_i, rowmax(s)) can now be -inf (a row that sees nothing
        #         yet): subtract m_sub = tl.where(m_new == -inf, 0.0, m_new) instead of m_new, in
        #         p and in alpha, so exp2(-inf) = 0 and no NaN appears. Update l_i, acc, m_i as above.
        pass

    # TODO 6: the epilogue. o = acc / l_i, but a row that saw no key has l_i = 0: divide by 1
    #         there, O stays 0. lse in natural log: (m_i + log2(l_i)) * ln(2), -inf where l_i = 0.
    #         Store o as BF16 (rows < Sq) and lse (rows < Sq).


def launch(q, k, v, o, lse, causal):
    B, H, Sq, D = q.shape
    Skv = k.shape[2]
    # 128 query rows over 8 warps (two warpgroups of wgmma, 64 rows each) against 64-key tiles; K
    # and V multi-buffered by the pipeliner (num_stages).
    BM, BN, warps, stages = 128, 64, 8, 3
    qk_scale = 1.4426950408889634 / math.sqrt(D)  # log2(e) / sqrt(D): softmax via exp2
    grid = (B * H, triton.cdiv(Sq, BM))
    flash_fwd_kernel[grid](q, k, v, o, lse, Sq, Skv, qk_scale, D=D, BM=BM, BN=BN, CAUSAL=bool(causal),
                           num_warps=warps, num_stages=stages)
