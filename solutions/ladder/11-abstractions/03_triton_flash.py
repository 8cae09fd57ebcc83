# Session 11, exercise 3: FlashAttention forward in Triton (solution)
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
# one multiply). The key range splits in two loops: tiles every row sees whole need no mask at all;
# only the few tiles on the causal diagonal or past the end of the keys pay for one, and tiles
# beyond the diagonal are never visited.
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

    # This head's pointers (64-bit: B * H * S * D may pass 2^31), and its Q tile, loaded once.
    bh64 = bh.to(tl.int64)
    q_ptr += bh64 * Sq * D
    o_ptr += bh64 * Sq * D
    k_ptr += bh64 * Skv * D
    v_ptr += bh64 * Skv * D
    lse_ptr += bh64 * Sq
    q = tl.load(q_ptr + rows[:, None] * D + dims[None, :], mask=rows[:, None] < Sq, other=0.0)

    m_i = tl.full([BM], float("-inf"), dtype=tl.float32)  # running max of the scaled scores
    l_i = tl.zeros([BM], dtype=tl.float32)  # running sum of exp2(score - m_i)
    acc = tl.zeros([BM, D], dtype=tl.float32)

    # Key j is visible to row i iff j <= i + diag. Keys below full_end are visible to every row of
    # the block; keys from hi on to none of them.
    diag = Skv - Sq
    if CAUSAL:
        hi = tl.minimum(tl.maximum(start_m + BM + diag, 0), Skv)
        full_end = tl.minimum(tl.maximum(start_m + diag + 1, 0), hi) // BN * BN
    else:
        hi = Skv
        full_end = Skv // BN * BN

    # Stage 1: whole tiles, no mask. Every row has a finite max from the first tile on.
    for n0 in range(0, full_end, BN):
        keys = n0 + cols
        k = tl.load(k_ptr + keys[:, None] * D + dims[None, :])
        s = tl.dot(q, tl.trans(k))
        m_new = tl.maximum(m_i, tl.max(s, 1) * qk_scale)
        p = tl.math.exp2(s * qk_scale - m_new[:, None])  # one FMA and one exp2 per score
        alpha = tl.math.exp2(m_i - m_new)  # rescales what was summed under the old max
        l_i = l_i * alpha + tl.sum(p, 1)
        v = tl.load(v_ptr + keys[:, None] * D + dims[None, :])
        acc = tl.dot(p.to(tl.bfloat16), v, acc * alpha[:, None])
        m_i = m_new

    # Stage 2: the diagonal tiles and the partial last tile, masked.
    for n0 in range(full_end, hi, BN):
        keys = n0 + cols
        k_ok = keys < Skv
        k = tl.load(k_ptr + keys[:, None] * D + dims[None, :], mask=k_ok[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k)) * qk_scale
        visible = k_ok[None, :]
        if CAUSAL:
            visible = visible & (keys[None, :] <= rows[:, None] + diag)
        s = tl.where(visible, s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        # A row that sees nothing yet has max -inf: subtract 0 instead, so exp2(-inf) = 0, no NaN.
        m_sub = tl.where(m_new == float("-inf"), 0.0, m_new)
        p = tl.math.exp2(s - m_sub[:, None])
        alpha = tl.math.exp2(m_i - m_sub)
        l_i = l_i * alpha + tl.sum(p, 1)
        # Zeros past the end: p = 0 there, but 0 times whatever lies past V could be a NaN.
        v = tl.load(v_ptr + keys[:, None] * D + dims[None, :], mask=k_ok[:, None], other=0.0)
        acc = tl.dot(p.to(tl.bfloat16), v, acc * alpha[:, None])
        m_i = m_new

    # Epilogue: normalise once; a row that saw no key has l_i = 0 and gets O = 0, lse = -inf.
    seen = l_i > 0.0
    o = acc / tl.where(seen, l_i, 1.0)[:, None]
    lse = tl.where(seen, (m_i + tl.math.log2(l_i)) * 0.6931471805599453, float("-inf"))  # log2 -> ln
    tl.store(o_ptr + rows[:, None] * D + dims[None, :], o.to(tl.bfloat16), mask=rows[:, None] < Sq)
    tl.store(lse_ptr + rows, lse, mask=rows < Sq)


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
