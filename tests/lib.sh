# Sourced by the test scripts (from the repository root): one PASS or FAIL line per check, counted
# in `passed` and `failed`; each script ends with the line "N passed, N failed".
passed=${passed:-0} failed=${failed:-0}
result() {  # result PASS|FAIL what [detail]
    if [ "$1" = PASS ]; then passed=$((passed + 1)); printf 'PASS  %s\n' "$2"
    else failed=$((failed + 1)); printf 'FAIL  %s  %s\n' "$2" "${3:-}"; fi
}
