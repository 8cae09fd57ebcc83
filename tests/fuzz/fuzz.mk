# Fuzz tests of the readers of user files (tests/fuzz/fuzz_NAME.c), included by the top-level
# Makefile, which defines ROOT, BUILD and CC (alone: make -f tests/fuzz/fuzz.mk TARGET).
#
#   make fuzz-build                    every harness with gcc, ASan and UBSan, and the driver of
#                                      tests/fuzz/driver.c: $(BUILD)/fuzz/NAME [--seconds S] CORPUS...
#   make fuzz FUZZ=NAME [SECONDS=600]  the long run: libFuzzer (clang) on a copy of the seed corpus
#                                      tests/fuzz/corpus/NAME, for SECONDS; findings in
#                                      $(BUILD)/fuzz/libfuzzer/crash-NAME-*
#
# A harness names the repository sources it is compiled with on its first line, "// link: a.c b.c"
# (paths from the repository root), and may give extra compiler flags on its second, "// cflags: ...".

ROOT ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
BUILD ?= build
FUZZ_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
FUZZ_DIR := $(ROOT)/tests/fuzz
FUZZ_OUT := $(abspath $(BUILD))/fuzz
FUZZ_CC := $(if $(filter default,$(origin CC)),gcc,$(CC))
FUZZ_CLANG ?= clang
FUZZ_NAMES := $(sort $(patsubst $(FUZZ_DIR)/fuzz_%.c,%,$(wildcard $(FUZZ_DIR)/fuzz_*.c)))
# SECONDS only from the command line: bash keeps a variable of that name in its environment.
FUZZ_SECONDS := $(if $(filter command line,$(origin SECONDS)),$(SECONDS),600)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -g -O1
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wno-format-truncation -I$(ROOT)/grader -I$(ROOT)/finale/mini/engine -I$(ROOT)/finale/mini
# Headers the harnesses may include: a change to one rebuilds them all.
FUZZ_HEADERS := $(wildcard $(ROOT)/grader/*.h $(ROOT)/finale/mini/engine/*.h)

fuzz_link = $(addprefix $(ROOT)/,$(shell sed -n '1s,^// link:,,p' $(1)))
fuzz_cflags = $(shell sed -n '2s,^// cflags:,,p' $(1))

.PHONY: fuzz-build fuzz

# Compiled from the repository root, so that paths in "// cflags:" read as they do in "// link:".
define FUZZ_RULES
$(FUZZ_OUT)/$(1): $(FUZZ_DIR)/fuzz_$(1).c $(FUZZ_DIR)/driver.c $(call fuzz_link,$(FUZZ_DIR)/fuzz_$(1).c) $(FUZZ_HEADERS)
	@mkdir -p $$(@D)
	cd $(ROOT) && $(FUZZ_CC) $(FUZZ_SAN) $(FUZZ_FLAGS) $(call fuzz_cflags,$(FUZZ_DIR)/fuzz_$(1).c) -o $$@ \
	    $(FUZZ_DIR)/fuzz_$(1).c $(call fuzz_link,$(FUZZ_DIR)/fuzz_$(1).c) $(FUZZ_DIR)/driver.c -lm

$(FUZZ_OUT)/libfuzzer/$(1): $(FUZZ_DIR)/fuzz_$(1).c $(call fuzz_link,$(FUZZ_DIR)/fuzz_$(1).c) $(FUZZ_HEADERS)
	@mkdir -p $$(@D)
	cd $(ROOT) && $(FUZZ_CLANG) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 $(FUZZ_FLAGS) \
	    $(call fuzz_cflags,$(FUZZ_DIR)/fuzz_$(1).c) -o $$@ $(FUZZ_DIR)/fuzz_$(1).c $(call fuzz_link,$(FUZZ_DIR)/fuzz_$(1).c) -lm
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULES,$(n))))

fuzz-build: $(addprefix $(FUZZ_OUT)/,$(FUZZ_NAMES))

# The checks come first, each said in one line; then the build (a make of this file alone) and the run.
fuzz:
	@[ -n "$(FUZZ)" ] || { echo "usage: make fuzz FUZZ=NAME [SECONDS=600]; NAME is one of: $(FUZZ_NAMES)"; exit 64; }
	@[ -f "$(FUZZ_DIR)/fuzz_$(FUZZ).c" ] || { echo "make fuzz: no harness tests/fuzz/fuzz_$(FUZZ).c; there are: $(FUZZ_NAMES)"; exit 64; }
	@command -v $(FUZZ_CLANG) >/dev/null || { echo "make fuzz: clang is missing (Debian: apt-get install clang); without it: make fuzz-build, then $(FUZZ_OUT)/$(FUZZ) --seconds N tests/fuzz/corpus/$(FUZZ)"; exit 1; }
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (int)(d && n) * 0; }\n' | \
	    $(FUZZ_CLANG) -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1 || { \
	    echo "make fuzz: $(FUZZ_CLANG) has no libFuzzer runtime (Debian: apt-get install libclang-rt-dev, or libclang-rt-NN-dev for clang NN)"; exit 1; }
	@$(MAKE) --no-print-directory -f $(FUZZ_MK) ROOT=$(ROOT) BUILD=$(BUILD) FUZZ_CLANG=$(FUZZ_CLANG) $(FUZZ_OUT)/libfuzzer/$(FUZZ)
	@rm -rf $(FUZZ_OUT)/libfuzzer/corpus-$(FUZZ) && mkdir -p $(FUZZ_OUT)/libfuzzer/corpus-$(FUZZ) && \
	    cp $(FUZZ_DIR)/corpus/$(FUZZ)/* $(FUZZ_OUT)/libfuzzer/corpus-$(FUZZ)/ 2>/dev/null; \
	    echo "make fuzz: $(FUZZ) for $(FUZZ_SECONDS) s on a copy of tests/fuzz/corpus/$(FUZZ) in $(FUZZ_OUT)/libfuzzer/corpus-$(FUZZ)"
	cd $(FUZZ_OUT)/libfuzzer && ./$(FUZZ) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/libfuzzer/crash-$(FUZZ)- corpus-$(FUZZ)
