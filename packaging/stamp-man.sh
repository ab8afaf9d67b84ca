#!/usr/bin/env bash
# stamp-man.sh VERSION SOURCE.1: prints the man page with the package version in its .TH line.
# The sources say only "redis-rs" there (valid groff, and no version to forget to bump); the
# packaged pages say "redis-rs VERSION", VERSION being Cargo.toml's, which the .deb's version is
# made from. Fails if the page has no `.TH ... "redis-rs" ...` line to stamp.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 VERSION SOURCE.1" >&2; exit 2; }
version=$1 page=$2
case "$version" in
    *[!0-9A-Za-z.+~-]* | "") echo "$0: not a package version: '$version'" >&2; exit 2 ;;
esac
awk -v v="$version" -v page="$page" '
    !done && /^\.TH / && index($0, " \"redis-rs\" ") {
        sub(/ "redis-rs" /, " \"redis-rs " v "\" ")
        done = 1
    }
    { print }
    END { if (!done) { print page ": no .TH line with \"redis-rs\" to stamp" > "/dev/stderr"; exit 1 } }
' "$page"
