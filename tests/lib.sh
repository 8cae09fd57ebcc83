# Sourced by the test scripts (from the repository root): one PASS or FAIL line per check, counted
# in `passed` and `failed`; each script ends with the line "N passed, N failed".
passed=${passed:-0} failed=${failed:-0}
result() {  # result PASS|FAIL what [detail]
    if [ "$1" = PASS ]; then passed=$((passed + 1)); printf 'PASS  %s\n' "$2"
    else failed=$((failed + 1)); printf 'FAIL  %s  %s\n' "$2" "${3:-}"; fi
}
# relay PROGRAM LOG NAME [PREFIX]: runs a test program that prints its own "PASS  what" and
# "FAIL  what" lines into LOG, counts each as a result (what prefixed by PREFIX), and fails once
# more when the program stopped early (a non-zero exit with no FAIL line of its own).
relay() {
    local program=$1 log=$2 name=$3 prefix=${4:-} rc line
    "$program" >"$log" 2>&1
    rc=$?
    while IFS= read -r line; do
        case $line in
        "PASS  "*) result PASS "$prefix${line#PASS  }" ;;
        "FAIL  "*) result FAIL "$prefix${line#FAIL  }" ;;
        esac
    done <"$log"
    [ $rc -eq 0 ] || grep -q '^FAIL' "$log" || result FAIL "$name ran to the end" "exit $rc: $(tail -n 3 "$log")"
}
