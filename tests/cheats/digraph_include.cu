// Cheat: the solution included through the digraph %: (which is #), with a path in quotes that
// an older scanner blanked as a string and never read as a directive.
%:include "../../solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu"  // CHEAT: "../../solutions/ladder/02-cuda-model/02_saxpy_grid_stride.cu"
