"""PASS/FAIL lines and the closing 'N passed, N failed' of the Python tests (the shell tests'
tests/lib.sh, for Python)."""
import sys

counts = {"passed": 0, "failed": 0}


def result(ok, what, detail=""):
    """One PASS or FAIL line; a failure's detail on the line under it."""
    counts["passed" if ok else "failed"] += 1
    print(("PASS  " if ok else "FAIL  ") + what + ("\n      " + str(detail) if detail and not ok else ""))


def finish():
    """The summary line, and exit status 1 when anything failed."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    sys.exit(1 if counts["failed"] else 0)
