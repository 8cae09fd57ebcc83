// The knobs of the CPU stand-in for CUDA, cuBLAS and cuBLASLt (fake_cuda.cpp).
#ifndef FAKE_CUDA_H
#define FAKE_CUDA_H

#define FAKE_CANDIDATES 4          // cuBLASLt algorithms the stand-in can offer
extern float fake_ms[FAKE_CANDIDATES + 1];  // what a timed call takes: [0] cublasGemmEx, [1 + i] algorithm i
extern int fake_calls[FAKE_CANDIDATES + 1]; // calls made, same indices
extern int fake_lt_algos;                   // algorithms the heuristic offers (default 2)

#endif
