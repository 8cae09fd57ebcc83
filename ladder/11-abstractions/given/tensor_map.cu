// Session 11, given: tma_map_bf16 (declared in cute_given.cuh), for the Hopper path of 04. It is
// session 10's helper, built into this session's check: CuTe's own make_tma_copy would reach the
// driver through cudaGetDriverEntryPointByVersion, which no exercise object may reference.
#include "tma_map_bf16.inc"  // grader/: the definition, shared with session 10
