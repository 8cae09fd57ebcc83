#!/usr/bin/env python3
"""Regenerates the sample class in class/ from the real H100 records (handouts/bench/h100-2026-11-22.jsonl):
each student's record is the solution's record with the verdict and percent of peak edited, the time and
the other percents scaled to match, "solution" false, a seed and time of its own; a verdict given without a
run (NOT_SUBMITTED, COMPILE_ERROR) is written as the class grader writes it. Run from the repo root:
    python3 tests/leaderboard/make-class.py"""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
real = {}
for line in open(os.path.join(here, '../../handouts/bench/h100-2026-11-22.jsonl')):
    r = json.loads(line)
    real[(r['session'], r['exercise'])] = r

M, T = 'ladder/03-memory', 'ladder/04-gemm-tiling'
# student -> list of (session, exercise, verdict, pct_peak or None, when, message)
D1, D2, D3 = '2026-12-01T10:00:00Z', '2026-12-02T10:00:00Z', '2026-12-03T10:00:00Z'
mem = ['01_transpose_naive', '02_transpose_shared', '03_transpose_padded', '04_reduce_tree', '05_reduce_warp_shuffle']
gemm = ['00_cublas_sgemm', '01_sgemm_naive', '02_sgemm_coalesced', '03_sgemm_smem_tiled']
cls = {
    # honest fast: everything passes
    'alice': [(M, e, 'PASS', p, D1, '') for e, p in zip(mem, [25, 50, 80, 50, 80])] +
             [(T, e, 'PASS', p, D1, '') for e, p in zip(gemm, [76.4, 1, 9, 14])],
    # honest slow: everything passes, slowly
    'bob':   [(M, e, 'PASS', p, D1, '') for e, p in zip(mem, [10, 20, 40, 20, 40])] +
             [(T, e, 'PASS', p, D1, '') for e, p in zip(gemm, [76.1, 0.5, 4, 8])],
    # fast but one exercise fails at the latest run (it passed earlier), one fixed later (failed earlier)
    'carol': [(M, e, 'PASS', p, D1, '') for e, p in zip(mem, [30, 60, 85, 60, 70])] +
             [(M, '03_transpose_padded', 'FAIL', None, D2, 'out[17,3]: expected 0.25, got nan (an element never written)'),
              (M, '05_reduce_warp_shuffle', 'PASS', 90, D2, '')] +
             [(T, e, 'PASS', p, D1, '') for e, p in zip(gemm[:3], [76.3, 0.8, 10])] +
             [(T, '03_sgemm_smem_tiled', 'TIMEOUT', None, D1, 'no result after 10 s')],
    # the fastest numbers, but caught using a side stream in session 03: disqualified there
    'dave':  [(M, e, 'PASS', 95, D1, '') for e in mem if e != '04_reduce_tree'] +
             [(M, '04_reduce_tree', 'DISQUALIFIED', None, D1, 'the file calls cudaStreamCreate, which this exercise forbids')] +
             [(T, e, 'PASS', p, D1, '') for e, p in zip(gemm, [76.5, 1.2, 12, 20])],
    # erin's file is cut short: its last line is truncated (written by a grader killed mid-write)
    'erin':  [(M, e, 'PASS', p, D1, '') for e, p in zip(mem, [13, 51, 82, 47, 77])],
    # handed in two files in session 03, neither passes: not ranked there; one slow pass in 04: ranked last
    'frank': [(M, '01_transpose_naive', 'FAIL', None, D1, 'out[0,1]: expected 0.5, got 0.25 (rows and columns swapped?)'),
              (M, '02_transpose_shared', 'COMPILE_ERROR', None, D1, "02_transpose_shared.cu(21): error: identifier \"tile\" is undefined")] +
             [(M, e, 'NOT_SUBMITTED', None, D1, 'not handed in: no %s/%s.cu in the student\'s folder' % (M, e)) for e in mem[2:]] +
             [(T, '00_cublas_sgemm', 'PASS', 76.2, D1, ''), (T, '01_sgemm_naive', 'PASS', 0.6, D1, '')] +
             [(T, e, 'NOT_SUBMITTED', None, D1, 'not handed in: no %s/%s.cu in the student\'s folder' % (T, e)) for e in gemm[2:]],
    # handed in nothing at all (the given 00_cublas_sgemm passes for everyone and counts for no one)
    'grace': [(M, e, 'NOT_SUBMITTED', None, D1, 'not handed in: no %s/%s.cu in the student\'s folder' % (M, e)) for e in mem] +
             [(T, '00_cublas_sgemm', 'PASS', 76.0, D1, '')] +
             [(T, e, 'NOT_SUBMITTED', None, D1, 'not handed in: no %s/%s.cu in the student\'s folder' % (T, e)) for e in gemm[1:]],
}

def record(student, i, s, e, v, p, when, msg):
    r = dict(real[(s, e)])
    r.update(solution=False, verdict=v, message=msg, when=when, seed='0x%x' % (0x5eed0000 + 97 * i + len(student)))
    if v in ('NOT_SUBMITTED', 'COMPILE_ERROR'):   # verdicts given without a run: as the class grader writes them
        return dict(schema=r['schema'], session=s, exercise=e, solution=False, given=False, verdict=v, message=msg,
                    seed=None, when=when, gpu='', shapes_checked=0, shapes_passed=0, timed=False)
    if v != 'PASS':
        for k in list(r):
            if k in ('bench_shape', 'median_ms', 'min_ms', 'max_ms', 'reps', 'flops', 'bytes', 'roof', 'bound',
                     'roof_tflops', 'roof_gbs', 'roof_derived', 'pct_peak', 'pct_measured_roof', 'library',
                     'library_ms', 'pct_library'):
                del r[k]
        r['timed'] = False
        r['shapes_passed'] = max(0, r['shapes_checked'] - 1)
        return r
    f = real[(s, e)]['pct_peak'] / p   # time scales inversely with percent of peak
    for k in ('median_ms', 'min_ms', 'max_ms'):
        r[k] = float('%.6g' % (r[k] * f))
    for k in ('pct_measured_roof', 'pct_library'):
        if r.get(k) is not None:
            r[k] = float('%.6g' % (r[k] / f))
    r['pct_peak'] = p
    return r

for student, rows in cls.items():
    lines = [json.dumps(record(student, i, *row), separators=(',', ':')) for i, row in enumerate(rows)]
    if student == 'erin':
        lines[-1] = lines[-1][:len(lines[-1]) // 2]
    with open(os.path.join(here, 'class', student + '.jsonl'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
