# The student bundle's guard. grader/make-dist.sh appends "include" lines for it to the bundle's
# copies of the Makefile and of grader/session.mk (the repository's own copies never include it).
# The mentors' targets grade the solutions or run the tests, and the bundle holds neither: without
# this guard, make check SOLUTION=1 would grade the student's own files under the label [solutions].
# The refusal happens while make reads its makefiles, so before anything is built, in one line.

BUNDLE_MK := $(lastword $(MAKEFILE_LIST))
# Not a file to remake: session.mk's match-anything rule would forward it to the top level.
$(BUNDLE_MK): ;

bundle_refusal = make $(1): solutions and tests are not part of the student bundle; make check grades your own files

ifeq ($(strip $(SOLUTION)),1)
$(error $(call bundle_refusal,$(or $(MAKECMDGOALS),check) SOLUTION=1))
endif
ifneq ($(filter bench gpu-test grade,$(MAKECMDGOALS)),)
$(error $(call bundle_refusal,$(firstword $(filter bench gpu-test grade,$(MAKECMDGOALS)))))
endif
