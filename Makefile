# Kernel workbook: one Makefile for every session.
#
#   make check              build and grade every session with your files
#   make check SOLUTION=1   the same with the hidden solutions
#   make progress           every exercise's latest verdict and percent of peak; what to open next
#   make watch EX=NAME      check exercise NAME each time its file is saved (Ctrl-C stops)
#   make -C ladder/02-cuda-model check      one session (any target works there)
#   make test               CPU tests: grader, references, compile checks, contract (no GPU needed)
#   make gpu-test           on a GPU: solutions pass, skeletons fail cleanly, compute-sanitizer
#   make roofs              measure copy bandwidth and cuBLAS GEMM rates of this GPU (cached)
#   make bench              the solutions' percent-of-peak table (JSON, Markdown, chart)
#   make dist               the student bundle, without solutions
#   make demo               the board demos;  make demo-NAME runs one
#   make profile EX=NAME    Nsight Compute's key numbers for one exercise's kernels (SIZE=small, KERNEL=regex)
#   make sass EX=NAME       what an exercise compiled to: HMMA, HGMMA, TMA, mbarrier... counts per kernel (FULL=1)
#   make grade CLASS=DIR    grade a class (one folder per student): OUT=DIR, default build/grade
#   make leaderboard CLASS=DIR   rank a class from one results file per student (Markdown, HTML, charts)
#   make handouts           every handout as one standalone HTML page and a PDF, in build/handouts/
#   make mini-corpus        the mini-model's training text from Debian's fortunes, in build/corpus/
#   make mini               the mini-model's CPU engine build/mini/mini (gcc only);  make mini-run PROMPT="..."
#   make mini-gpu           the mini-model on the GPU, on your kernels of sessions 12 and 14;
#                           PROMPT="...", ARGS="--speculative 1 --compare"
#   make fuzz FUZZ=NAME     fuzz one reader of user files with libFuzzer (clang) for SECONDS (default 600)
#
# Variables: ARCH=sm_90a (default: detected with nvidia-smi; sm_80 without a GPU), SEED=0x..., TIME_LIMIT=s,
# SESSIONS="ladder/01-gpu-vs-cpu ..." (default: all), NVCC, CC. A session for one GPU generation only
# (hopper/10-beat-cublas: sm_90a, its NEEDS_ARCH file) is skipped in one line on any other ARCH.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
NVCC ?= $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc),nvcc)
CC := $(if $(filter default,$(origin CC)),gcc,$(CC))
BUILD ?= build
SOLUTION ?= 0

# ---- architecture: detected, overridable -----------------------------------------------------
# Compute capability 9.0 and 10.0 build their architecture-specific targets (sm_90a, sm_100a):
# Hopper's wgmma and Blackwell's tcgen05 exist only there.
DETECTED_CC := $(shell nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
arch_of = $(if $(filter 90 100 103,$(1)),sm_$(1)a,sm_$(1))
ARCH ?= $(if $(DETECTED_CC),$(call arch_of,$(DETECTED_CC)),sm_80)
ARCH_NUM := $(patsubst sm_%,%,$(ARCH))
GENCODE = -gencode=arch=compute_$(ARCH_NUM),code=sm_$(ARCH_NUM)

VARIANT := $(if $(filter 1,$(SOLUTION)),solution,student)
SRC := $(if $(filter 1,$(SOLUTION)),solutions,.)
B := $(BUILD)/$(ARCH)/$(VARIANT)
G := $(BUILD)/$(ARCH)/grader
ROOFS_DIR := $(BUILD)/roofs

# ---- sessions: every folder NN-name with a check.c, in session order -------------------------
ALL_SESSIONS := $(shell cd $(ROOT) && ls -d */[0-9][0-9]-*/check.c 2>/dev/null | sed 's,/check.c$$,,' | sort -t/ -k2)
SESSIONS ?= $(ALL_SESSIONS)
exercises_of = $(sort $(basename $(notdir $(wildcard $(1)/[0-9][0-9]_*.cu))))
# Code a session gives (the same for students and solutions): $(session)/given/*.cu
given_of = $(patsubst %.cu,$(B)/%.o,$(wildcard $(1)/given/*.cu))
# A session that builds for some architectures only lists them in its NEEDS_ARCH file (session 10:
# sm_90a, for wgmma and setmaxnreg). On another ARCH it is left out of everything that builds or
# runs every session (build, check, bench, profile, demos, gpu-test, the class grader), which say
# so in one line (grader/needs-arch.sh). Scripts ask make print-BUILDABLE_SESSIONS and
# print-OTHER_ARCH_SESSIONS (with ARCH= and SESSIONS= as they need).
builds_for_arch = $(or $(if $(wildcard $(ROOT)/$(1)/NEEDS_ARCH),,yes),$(filter $(ARCH),$(shell cat $(ROOT)/$(1)/NEEDS_ARCH)))
buildable_sessions = $(foreach s,$(1),$(if $(call builds_for_arch,$(s)),$(s)))
BUILDABLE_SESSIONS := $(call buildable_sessions,$(SESSIONS))
OTHER_ARCH_SESSIONS := $(filter-out $(BUILDABLE_SESSIONS),$(SESSIONS))
CHECKERS := $(foreach s,$(BUILDABLE_SESSIONS),$(B)/$(s)/check)

# ---- flags -----------------------------------------------------------------------------------
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(shell command -v $(NVCC) 2>/dev/null))
CPPFLAGS := -I$(ROOT)/grader -I$(CUDA_HOME)/include -DGR_BUILD_ARCH='"$(ARCH)"'
CFLAGS ?= -O2 -g -std=c11 -Wall -Wextra -Wno-format-truncation -D_GNU_SOURCE
NVCCFLAGS ?= -O3 -std=c++17 -lineinfo -Xcompiler -Wall -diag-suppress 550
# Sessions built on CUTLASS's headers (CuTe): their exercise objects get them on the include path
# (and CuTe's constexpr host functions in device code), and grader/ensure-cutlass.sh installs them
# from PyPI (nvidia-cutlass, pinned) before the first such object is built.
CUTLASS_VERSION := 4.2.0.0
CUTLASS_DIR ?= $(ROOT)/build/deps/cutlass-$(CUTLASS_VERSION)
CUTLASS_SESSIONS := ladder/11-abstractions
CUTLASS_HEADER := $(CUTLASS_DIR)/include/cute/tensor.hpp
session_nvccflags = $(if $(filter $(1),$(CUTLASS_SESSIONS)),-I$(CUTLASS_DIR)/include --expt-relaxed-constexpr) $(call session_nccl_cppflags,$(1))
# Sessions with Python exercises (session 11's Triton files): the check embeds the interpreter that
# grader/ensure-python.sh chooses (installing the pinned Triton, and PyTorch on a GPU machine, when
# missing) and loads SRC/<session>/NN_name.py when it runs (grader/python/).
PYTHON_SESSIONS := ladder/11-abstractions
PY_DEPS ?= $(ROOT)/build/deps
PY_BASE ?=
ENSURE_PYTHON = PYTHON="$(PY_BASE)" grader/ensure-python.sh $(PY_DEPS)
python_host_of = $(if $(filter $(1),$(PYTHON_SESSIONS)),$(B)/$(1)/python_host.o)
python_ldflags_of = $(if $(filter $(1),$(PYTHON_SESSIONS)),$$$$($(ENSURE_PYTHON) ldflags))
# NCCL, for session 14's 05 (expert parallelism over several GPUs): nccl.h and libnccl from the CUDA
# toolkit, the system (libnccl-dev), or PyPI's nvidia-nccl-cu13 wheel in python3's site-packages, in
# that order; NCCL_HOME=DIR (DIR/include/nccl.h, DIR/lib or lib64/libnccl.so*) chooses, NCCL=0 builds
# without. Only that session compiles with it (WB_HAVE_NCCL) and links it; without it, 05 says so
# in one line and nothing else changes.
NCCL ?= 1
NCCL_SESSIONS := finale/14-deepseek
nccl_lib_in = $(firstword $(wildcard $(addprefix $(1)/,libnccl.so libnccl.so.2)))
nccl_found_in = $(if $(and $(wildcard $(1)/nccl.h),$(call nccl_lib_in,$(2))),$(1) $(2))
NCCL_PIP_DIR = $(shell python3 -c 'import importlib.util as u; s = u.find_spec("nvidia.nccl"); print(list(s.submodule_search_locations)[0] if s else "")' 2>/dev/null)
nccl_libdir_of = $(firstword $(foreach d,$(1)/lib64 $(1)/lib,$(if $(call nccl_lib_in,$(d)),$(d))))
NCCL_DIRS := $(if $(filter 1,$(NCCL)),$(if $(NCCL_HOME),$(call nccl_found_in,$(NCCL_HOME)/include,$(call nccl_libdir_of,$(NCCL_HOME))),$(or \
    $(call nccl_found_in,$(CUDA_HOME)/include,$(call nccl_libdir_of,$(CUDA_HOME))), \
    $(call nccl_found_in,/usr/include,/usr/lib/$(shell gcc -print-multiarch 2>/dev/null)), \
    $(call nccl_found_in,$(NCCL_PIP_DIR)/include,$(NCCL_PIP_DIR)/lib))))
NCCL_INCLUDE := $(word 1,$(NCCL_DIRS))
NCCL_LIBDIR := $(word 2,$(NCCL_DIRS))
NCCL_CPPFLAGS := $(if $(NCCL_DIRS),-DWB_HAVE_NCCL=1 -I$(NCCL_INCLUDE))
NCCL_LDLIBS := $(if $(NCCL_DIRS),-L$(NCCL_LIBDIR) -l:$(notdir $(call nccl_lib_in,$(NCCL_LIBDIR))) -Xlinker -rpath=$(NCCL_LIBDIR))
session_nccl_cppflags = $(if $(filter $(1),$(NCCL_SESSIONS)),$(NCCL_CPPFLAGS))
session_ldlibs = $(if $(filter $(1),$(NCCL_SESSIONS)),$(NCCL_LDLIBS))
# Student build only: a skeleton declares the tiles, indices and accumulators its TODOs use, and until
# they are written nvcc reports #177 ("declared but never referenced") for each. Solutions keep it.
STUDENT_NVCCFLAGS := $(if $(filter 1,$(SOLUTION)),,-diag-suppress 177)
LDLIBS := -lcublas -lcublasLt

.PHONY: grade leaderboard profile unit-tests all build check test gpu-test bench roofs dist demo clean help tools need-nvcc charts session-nvccflags
.DEFAULT_GOAL := help
.SECONDARY:

help:
	@sed -n '3,/^$$/p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

need-nvcc:
	@NVCC=$(NVCC) grader/ensure-deps.sh build

# ---- the grader library ----------------------------------------------------------------------
GRADER_C := $(wildcard grader/*.c grader/ref/*.c)
GRADER_OBJ := $(patsubst grader/%.c,$(G)/%.o,$(GRADER_C)) $(G)/library.o $(G)/flush.o
TOOLS := $(patsubst grader/tools/%.c,$(G)/tools/%,$(wildcard grader/tools/*.c)) $(G)/tools/measure-roofs

$(G)/%.o: grader/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(G)/library.o $(G)/flush.o: $(G)/%.o: grader/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(GENCODE) -Igrader -MMD -MP -c $< -o $@

$(G)/libgrader.a: $(GRADER_OBJ)
	ar rcs $@ $^

# The checkers link the grader as one relocatable object, first on the line: a student file that
# defines a grader symbol then fails to link ("multiple definition") instead of replacing it, as it
# could replace an archive member the linker never had to pull in.
$(G)/grader.o: $(GRADER_OBJ)
	ld -r -o $@ $^

$(G)/tools/%.o: grader/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(G)/tools/%: $(G)/tools/%.o $(G)/libgrader.a
	$(NVCC) $(GENCODE) -o $@ $^

$(G)/tools/measure-roofs: grader/tools/measure-roofs.cu $(G)/libgrader.a
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(GENCODE) -Igrader $< -o $@ $(G)/libgrader.a $(LDLIBS)

tools: need-nvcc $(TOOLS)

# ---- exercises and checkers --------------------------------------------------------------------
# One object per exercise file, so that editing one recompiles only it.
$(B)/%.o: $(SRC)/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(STUDENT_NVCCFLAGS) $(GENCODE) -I$(ROOT)/$(patsubst %/given,%,$(patsubst $(B)/%,%,$(@D))) $(call session_nvccflags,$(patsubst %/given,%,$(patsubst $(B)/%,%,$(@D)))) -Igrader -MMD -MP -c $< -o $@

# Given code comes from the session folder in both variants. A static pattern, for the given files
# alone: as a second "$(B)/%.o: %.cu" pattern it also matched the exercises when SRC is ".", and make
# took it for the student build (no student flags, the wrong -I).
ALL_GIVEN := $(foreach s,$(ALL_SESSIONS),$(call given_of,$(s)))
$(ALL_GIVEN): $(B)/%.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(GENCODE) -I$(ROOT)/$(patsubst $(B)/%/given,%,$(@D)) -Igrader -MMD -MP -c $< -o $@

# The embedded interpreter of a Python session's check: which Python, where the exercise files are
# (the student's or the solutions'), and a Triton kernel cache of the build's own; the folders
# relative to the check's, so that a copied or moved tree loads its own files.
$(B)/%/python_host.o: grader/python/host.c grader/python/host.h grader/ensure-python.sh
	@mkdir -p $(@D)
	@flags=$$($(ENSURE_PYTHON) cflags) && exe=$$($(ENSURE_PYTHON) exe) && \
	echo "$(CC) -c grader/python/host.c -o $@ (embeds $$exe)" && rel() { realpath -m --relative-to="$(@D)" "$$1"; } && \
	$(CC) $(CPPFLAGS) $(CFLAGS) $$flags -DGR_PYTHON="\"$$exe\"" -DGR_PY_GRADER_DIR="\"$$(rel $(ROOT)/grader/python)\"" \
	  -DGR_PY_EXERCISE_DIR="\"$$(rel $(abspath $(SRC))/$*)\"" -DGR_PY_CACHE_DIR='"triton-cache"' -c $< -o $@

$(B)/%/check.o: %/check.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$* $(call session_nccl_cppflags,$*) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(dir $*) $(CFLAGS) -MMD -MP -c $< -o $@

$(CUTLASS_HEADER):
	@$(ROOT)/grader/ensure-cutlass.sh $(CUTLASS_VERSION) $(CUTLASS_DIR) >&2

# make session-nvccflags SESSION=S: the nvcc flags S's exercise files need beyond the common ones
# (with what they point at installed), for scripts that compile an exercise file themselves.
session-nvccflags: $(if $(filter $(SESSION),$(CUTLASS_SESSIONS)),$(CUTLASS_HEADER))
	@echo $(call session_nvccflags,$(SESSION))

define SESSION_RULES
$(if $(filter $(1),$(CUTLASS_SESSIONS)),$(foreach e,$(call exercises_of,$(1)),$(B)/$(1)/$(e).o): | $(CUTLASS_HEADER))
$(B)/$(1)/check: $(G)/grader.o $(B)/$(1)/check.o $(foreach e,$(call exercises_of,$(1)),$(B)/$(1)/$(e).o) $(call given_of,$(1)) $(call python_host_of,$(1))
	$$(NVCC) $$(GENCODE) -o $$@ $$^ $$(LDLIBS) $(call session_ldlibs,$(1)) $(call python_ldflags_of,$(1))
# A board demo of the session: demo_NAME.c linked with the session's exercises.
$(B)/$(1)/demo_%: $(B)/$(1)/demo_%.o $(foreach e,$(call exercises_of,$(1)),$(B)/$(1)/$(e).o) $(call given_of,$(1)) $(G)/libgrader.a
	$$(NVCC) $$(GENCODE) -o $$@ $$^ $$(LDLIBS) $(call session_ldlibs,$(1))
endef
$(foreach s,$(ALL_SESSIONS),$(eval $(call SESSION_RULES,$(s))))

build: need-nvcc $(CHECKERS) $(TOOLS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- grading -----------------------------------------------------------------------------------
RESULTS ?= $(B)/results.jsonl
CHECK_FLAGS := --results $(RESULTS) --roofs $(ROOFS_DIR) $(if $(filter 1,$(SOLUTION)),--solution) \
               $(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT)) $(if $(ONLY),--only $(ONLY))

# make progress, make watch, and the history of checks they read.
include grader/student.mk

# Each exercise file is compiled on its own (grader/check-sessions.sh): one that does not compile is
# that exercise's COMPILE_ERROR, and the rest of its session is still graded. That fallback link
# takes LDLIBS: NCCL's library is among them for session 14's check.o (the host linker drops it, as
# needed, from the sessions that do not call it).
check: need-nvcc $(G)/grader.o $(TOOLS)
	@MAKE="$(MAKE) ARCH=$(ARCH) SOLUTION=$(SOLUTION)" B="$(B)" G="$(G)" SRC="$(SRC)" SESSIONS="$(SESSIONS)" \
	ARCH="$(ARCH)" OTHER_ARCH_SESSIONS="$(OTHER_ARCH_SESSIONS)" \
	RESULTS="$(RESULTS)" NVCC="$(NVCC)" GENCODE="$(GENCODE)" LDLIBS="$(LDLIBS) $(NCCL_LDLIBS)" CHECK_FLAGS="$(CHECK_FLAGS)" \
	bash grader/check-sessions.sh; status=$$?; $(call keep_progress,$(RESULTS)); exit $$status

roofs: need-nvcc $(G)/tools/measure-roofs $(G)/tools/gpu-probe
	@$(G)/tools/gpu-probe || exit 1
	@mkdir -p $(ROOFS_DIR)
	$(G)/tools/measure-roofs --out $(ROOFS_DIR)

# The benchmark grades the solutions with more repetitions and keeps the records per GPU and day.
BENCH_DIR ?= $(BUILD)/bench
bench: need-nvcc
	@$(MAKE) --no-print-directory SOLUTION=1 build
	@$(G)/tools/gpu-probe || exit 1
	@mkdir -p $(ROOFS_DIR) && $(G)/tools/measure-roofs --out $(ROOFS_DIR) --if-missing
	@grader/needs-arch.sh $(ARCH) $(OTHER_ARCH_SESSIONS)
	@mkdir -p $(BENCH_DIR); out=$(BENCH_DIR)/bench.jsonl; rm -f $$out; status=0; \
	for s in $(BUILDABLE_SESSIONS); do $(BUILD)/$(ARCH)/solution/$$s/check --bench --solution --roofs $(ROOFS_DIR) --results $$out || status=1; done; \
	$(G)/tools/bench-table $$out > $(BENCH_DIR)/bench.md && cat $(BENCH_DIR)/bench.md; \
	for y in $(foreach s,$(BUILDABLE_SESSIONS),$(wildcard $(s)/bench_*.py)); do \
	    echo; python3 $$y --out $(BENCH_DIR) | tee -a $(BENCH_DIR)/bench.md || status=1; done; \
	grader/plot-bench.sh $$out $(BENCH_DIR) || true; exit $$status

# Charts from a bench record made elsewhere (the GPU machine may have no gnuplot).
charts:
	@test -n "$(BENCH)" || { echo "make charts: say which records, e.g. make charts BENCH=handouts/bench/h200-2026-11-30.jsonl TAG=h200"; exit 1; }
	grader/plot-bench.sh $(BENCH) $(or $(OUT),handouts/figures) $(TAG)

# ---- the mini-model's CPU reference engine (C11, no CUDA) ------------------------------------
# build/mini/libmini.a holds the engine (finale/mini/engine/*.c but main.c): the mini command,
# the unit tests and the session-14 board demos link it.
MINI_DIR := finale/mini/engine
MINI_OBJ := $(patsubst $(MINI_DIR)/%.c,$(BUILD)/mini/obj/%.o,$(filter-out $(MINI_DIR)/main.c,$(wildcard $(MINI_DIR)/*.c)))
MINI_LIB := $(BUILD)/mini/libmini.a
MINI_CFLAGS ?= -O2 -g -std=c11 -Wall -Wextra
.PHONY: mini mini-run

$(BUILD)/mini/obj/%.o: $(MINI_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(MINI_CFLAGS) -MMD -MP -c $< -o $@

$(MINI_LIB): $(MINI_OBJ)
	ar rcs $@ $^

$(BUILD)/mini/mini: $(BUILD)/mini/obj/main.o $(MINI_LIB)
	$(CC) -o $@ $^ -lm

# Small programs behind the board demos of finale/14-deepseek (demo_*.sh build them with make).
$(BUILD)/mini/demo_%: finale/mini/demos/%.c $(MINI_LIB)
	$(CC) $(MINI_CFLAGS) -I$(MINI_DIR) -o $@ $^ -lm

mini: $(BUILD)/mini/mini

# make mini-run PROMPT="Once upon" [ARGS="--tokens 200 --speculative 3"]
# PROMPT reaches the shell as an environment variable (make exports command-line variables), so
# quotes, $ and backquotes in it stay text.
mini-run: $(BUILD)/mini/mini
	$(BUILD)/mini/mini $(if $(PROMPT),--prompt "$$PROMPT") $(ARGS)

# ---- the mini-model on the GPU (finale/14-deepseek/engine) -----------------------------------
# make mini-gpu [SOLUTION=1] [PROMPT="Once upon"] [ARGS="--tokens 200 --compare"]: the engine linked
# with the variant's kernels: your session 12 gemv_bf16 and session 14 exercises (make check's
# build), or the hidden solutions (SOLUTION=1). Its own objects do not depend on the variant.
ENGINE_DIR := finale/14-deepseek/engine
ENGINE_BUILD := $(BUILD)/$(ARCH)/engine
ENGINE_OBJ := $(ENGINE_BUILD)/kernels.o $(ENGINE_BUILD)/engine.o $(ENGINE_BUILD)/ep_run.o $(ENGINE_BUILD)/main.o
# The exercises whose kernels the engine runs (also what make mini-gpu names when one has not passed).
ENGINE_EXERCISES := serving/12-serving/01_gemv_bf16 $(foreach e,01_mla_decode 02_moe_route 03_fp8_grouped_gemm 04_accept,finale/14-deepseek/$(e))
ENGINE_KERNELS := $(foreach e,$(ENGINE_EXERCISES),$(B)/$(e).o)
# Expert-parallel mode (--ep) talks through NCCL where the build found it (NCCL_CPPFLAGS above).
$(ENGINE_BUILD)/%.o: $(ENGINE_DIR)/%.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(GENCODE) $(NCCL_CPPFLAGS) -I$(MINI_DIR) -MMD -MP -c $< -o $@
$(ENGINE_BUILD)/%.o: $(ENGINE_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(NCCL_CPPFLAGS) -I$(MINI_DIR) $(CFLAGS) -MMD -MP -c $< -o $@
$(B)/mini-gpu: $(ENGINE_OBJ) $(ENGINE_KERNELS) $(call given_of,finale/14-deepseek) $(MINI_LIB)
	$(NVCC) $(GENCODE) -o $@ $^ -lm $(NCCL_LDLIBS)
.PHONY: mini-gpu
mini-gpu: need-nvcc $(B)/mini-gpu $(G)/tools/progress
	@$(if $(filter 1,$(SOLUTION)),:,bash grader/engine-kernels.sh $(G)/tools/progress $(PROGRESS_HISTORY) $(ENGINE_EXERCISES))
	$(B)/mini-gpu $(if $(PROMPT),--prompt "$$PROMPT") $(ARGS)

# ---- tests -------------------------------------------------------------------------------------
# Criterion unit tests of the grader and the CPU references (host code only: no GPU needed).
UNIT_SRC := $(wildcard tests/unit/*.c)
# The unit tests reach gemm.c, whose yardsticks (library.cu, C++) call cuBLAS and cuBLASLt: linked, never run.
CUDA_LIBS := -L$(CUDA_HOME)/lib64 $(LDLIBS) -lcudart_static -ldl -lrt -lpthread -lstdc++
$(BUILD)/tests/unit: $(UNIT_SRC) $(G)/libgrader.a $(MINI_LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(ROOT)/finale/mini -DMINI_REPO_ROOT='"$(ROOT)"' $(CFLAGS) $$(pkg-config --cflags criterion) $(UNIT_SRC) -o $@ $(G)/libgrader.a $(MINI_LIB) $(CUDA_LIBS) -lm $$(pkg-config --libs criterion)

unit-tests: $(BUILD)/tests/unit
test:
	@if [ -f tests/run-tests.sh ]; then bash tests/run-tests.sh; else echo "make test: this is the student bundle, which carries no tests; use make check"; fi

gpu-test: need-nvcc
	@bash tests/gpu-test.sh

# Fuzzing the readers of user files: make fuzz FUZZ=jsonl SECONDS=600 (harnesses in tests/fuzz/).
-include tests/fuzz/fuzz.mk

# ---- profiling ---------------------------------------------------------------------------------
# make profile EX=00_softmax_slow [SESSIONS=...] [SOLUTION=1] [SIZE=small] [KERNEL=regex] [METRICS=file] [NCU=path]
profile:
	@bash grader/profile.sh --preflight "$(EX)"
	@for s in $(OTHER_ARCH_SESSIONS); do [ ! -f $(SRC)/$$s/$(EX).cu ] || { grader/needs-arch.sh $(ARCH) $$s; exit 1; }; done
	@$(MAKE) --no-print-directory build
	@$(G)/tools/gpu-probe || exit 1
	@bash grader/profile.sh --build $(B) --source $(SRC) --sessions "$(BUILDABLE_SESSIONS)" $(if $(SIZE),--size $(SIZE)) $(if $(KERNEL),--kernel '$(KERNEL)') $(if $(METRICS),--metrics $(METRICS)) "$(EX)"

# ---- reading SASS ------------------------------------------------------------------------------
# make sass EX=02_mma_pipeline [SESSIONS=...] [SOLUTION=1] [ARCH=sm_90a] [FULL=1]: the instruction
# families of each kernel, and whether the exercise's signature (<session>/SASS) holds; no GPU needed.
.PHONY: sass
sass: need-nvcc
	@bash grader/sass.sh --make "$(MAKE)" --build-root "$(BUILD)" --arch $(ARCH) $(if $(filter command line environment override,$(origin ARCH)),--arch-given) $(if $(filter 1,$(SOLUTION)),--solution) $(if $(filter 1,$(FULL)),--full) --sessions "$(SESSIONS)" "$(EX)"

# ---- grading a class ---------------------------------------------------------------------------
# make grade CLASS=DIR [OUT=DIR] [SESSIONS="..."] [TIME_LIMIT=s] [JOBS=n]: every student's files built,
# scanned and run in isolation (grader/grade-class.sh), one results file per student, the leaderboard.
grade:
	@[ -n "$(CLASS)" ] || { echo "usage: make grade CLASS=DIR-OF-STUDENT-FOLDERS [OUT=DIR] [SESSIONS=...]"; exit 64; }
	@bash grader/grade-class.sh "$(CLASS)" "$(or $(OUT),$(BUILD)/grade)" --arch $(ARCH) $(if $(filter-out file,$(origin SESSIONS)),--sessions "$(SESSIONS)") $(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT)) $(if $(JOBS),--jobs $(JOBS))

# ---- the class leaderboard --------------------------------------------------------------------
# make leaderboard CLASS=DIR [OUT=DIR]: rank a class from one results file per student (NAME.jsonl)
leaderboard: $(G)/tools/leaderboard
	@[ -n "$(CLASS)" ] || { echo "usage: make leaderboard CLASS=DIR-OF-STUDENT-RESULTS [OUT=DIR]"; exit 64; }
	$(G)/tools/leaderboard $(or $(OUT),$(BUILD)/leaderboard) $(CLASS)

# ---- the student bundle ------------------------------------------------------------------------
dist:
	@grader/make-dist.sh $(BUILD)/dist

# ---- printable handouts -----------------------------------------------------------------------
# Every handouts/*.md as build/handouts/html/NAME.html (figures embedded) and build/handouts/pdf/NAME.pdf.
.PHONY: handouts
handouts:
	@grader/ensure-deps.sh handouts
	@grader/handouts.sh $(BUILD)/handouts

# ---- the mini-model's training text -------------------------------------------------------------
# build/corpus/train.txt and heldout.txt; finale/mini/README.md says how to train on them.
.PHONY: mini-corpus
mini-corpus:
	@bash finale/mini/train/prepare_corpus.sh $(BUILD)/corpus

# ---- board demos ------------------------------------------------------------------------------
demo:
	@grader/demos.sh list

demo-%:
	@grader/demos.sh run $* $(N)

clean:
	rm -rf $(BUILD)

# make print-ARCH, print-ALL_SESSIONS ...: a variable's value, for scripts.
print-%:
	@echo $($*)
