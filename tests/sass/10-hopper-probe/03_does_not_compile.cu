// make sass on a file that does not compile (tests/sass-test.sh): it says so, with nvcc's errors.
__global__ void broken(float *out) { out[threadIdx.x] = undeclared_name; }
