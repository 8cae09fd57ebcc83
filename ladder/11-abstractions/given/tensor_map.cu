// Session 11, given: tma_map_bf16 (declared in cute_given.cuh), for the Hopper rung of 04. It is
// session 10's helper, built once more into this session's check: CuTe's own make_tma_copy would
// reach the driver through cudaGetDriverEntryPointByVersion, which no exercise object may reference.
#include "../../../hopper/10-beat-cublas/given/tensor_map.cu"
