# tests/helpers.bash - what the bats files share, loaded by each with
# `load helpers`: common_setup (the binary in $ASYNCRUN, the checkout in
# $REPO, each test in its own $BATS_TEST_TMPDIR, named physically in $WORK)
# and need_python311 (skip tests that compare with CPython 3.11).

# Check $ASYNCRUN and make it absolute, set $REPO, cd to the test's temporary
# directory and set $WORK to its physical path.
common_setup() {
    if [ -z "${ASYNCRUN:-}" ]; then
        echo "ASYNCRUN must name the asyncrun binary" >&2
        return 1
    fi
    case $ASYNCRUN in
        /*) ;;
        */*) ASYNCRUN=$PWD/$ASYNCRUN ;;
    esac
    REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    cd "$BATS_TEST_TMPDIR" || return 1
    WORK=$(pwd -P)
}

# Skip tests that compare with CPython when python3 3.11 is missing.
need_python311() {
    command -v python3 >/dev/null || skip "python3 not installed"
    case $(python3 --version 2>&1) in
        "Python 3.11."*) ;;
        *) skip "python3 is not 3.11" ;;
    esac
}
