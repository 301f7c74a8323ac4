"""PASS/FAIL lines and the closing "N passed, N failed" line scripts/test.sh counts."""

passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS " + what, flush=True)
    else:
        failed += 1
        print("FAIL " + what + ("\n  " + detail.replace("\n", "\n  ") if detail else ""), flush=True)


def summary():
    """Prints the closing line; the exit status."""
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1
