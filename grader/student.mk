# Included by the top-level Makefile: what a student runs besides make check.
#   make progress           every exercise's latest verdict, percent of peak and when; what to open next
#   make watch EX=NAME      check exercise NAME each time its file is saved (Ctrl-C stops)
#
# make check keeps its records of every run in PROGRESS_HISTORY: its recipe calls
# $(call keep_progress,$(RESULTS)) after the sessions' checks, in the same shell line.

PROGRESS_HISTORY ?= $(BUILD)/progress/history.jsonl

# Shell text that appends a results file to the history. The solutions' runs are not the student's,
# so they are not kept; a history that can't be written warns and never fails the check.
keep_progress = $(if $(filter 1,$(SOLUTION)),:,{ [ ! -s $(1) ] || { mkdir -p $(dir $(PROGRESS_HISTORY)) && cat $(1) >> $(PROGRESS_HISTORY); }; } 2>/dev/null || echo "warning: could not keep $(1) in $(PROGRESS_HISTORY)")

.PHONY: progress watch

progress: need-nvcc $(G)/tools/progress
	@$(G)/tools/progress $(PROGRESS_HISTORY) $(ROOT) $(SESSIONS)

watch:
	@bash grader/watch.sh "$(EX)" $(SESSIONS)
