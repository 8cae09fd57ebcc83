# Included by every session's Makefile: each target is the top-level one, limited to this session.
#   make check | make check SOLUTION=1 | make bench | make gpu-test ...
WORKBOOK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
.DEFAULT_GOAL := check
Makefile $(WORKBOOK_ROOT)/grader/session.mk: ;
%:
	@$(MAKE) --no-print-directory -C $(WORKBOOK_ROOT) $@ SESSIONS=$(SESSION) ONE_SESSION=1
