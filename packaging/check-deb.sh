#!/usr/bin/env bash
# check-deb.sh PATH/TO/redis-rs_VERSION_ARCH.deb: checks what lintian cannot know about the built
# package: every man page it ships names the package's own version on its .TH line (the Debian
# version without epoch and revision, i.e. Cargo.toml's). Exits 1 with the mismatches listed.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PACKAGE.deb" >&2; exit 2; }
deb=$1
full=$(dpkg-deb -f "$deb" Version)
upstream=${full#*:}
upstream=${upstream%-*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
pages=$(find "$tmp/usr/share/man" -name '*.gz' 2>/dev/null | sort)
[ -n "$pages" ] || { echo "$deb ships no man pages" >&2; exit 1; }
bad=0
for page in $pages; do
    th=$(zcat "$page" | grep -m 1 '^\.TH ' || true)
    if ! grep -qF "\"redis-rs $upstream\"" <<<"$th"; then
        echo "${page#"$tmp"}: .TH says ${th:-nothing}, the package is version $full" >&2
        bad=1
    fi
done
[ "$bad" = 0 ] || exit 1
echo "man pages: version $upstream, as the package ($full)"
