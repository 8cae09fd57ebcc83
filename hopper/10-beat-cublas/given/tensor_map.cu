// Session 10, given: building a TMA tensor map on the host.
//
// cuTensorMapEncodeTiled lives in the driver API (libcuda), which the exercises do not link; the
// runtime hands out its address. Exercise files call tma_map_bf16 (hopper_given.cuh) and never the
// driver themselves.
#include "tma_map_bf16.inc"  // grader/: the definition, shared with session 11
