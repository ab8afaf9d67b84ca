#!/usr/bin/env bash
# check-deb.sh PACKAGE.deb [PACKAGE-dbgsym.ddeb]: checks what lintian cannot know about the built
# packages:
# - every man page the .deb ships names the package's own version on its .TH line (the Debian
#   version without epoch and revision, i.e. Cargo.toml's);
# - with the .ddeb: every binary in /usr/bin is stripped of its debug info, and the .ddeb holds its
#   /usr/lib/debug/.build-id/XX/YYYY.debug file, with debug info, for the same version.
# Exits 1 with every mismatch listed.
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 PACKAGE.deb [PACKAGE-dbgsym.ddeb]" >&2; exit 2; }
deb=$1 ddeb=${2:-}
full=$(dpkg-deb -f "$deb" Version)
upstream=${full#*:}
upstream=${upstream%-*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/deb"
bad=0
pages=$(find "$tmp/deb/usr/share/man" -name '*.gz' 2>/dev/null | sort)
[ -n "$pages" ] || { echo "$deb ships no man pages" >&2; bad=1; }
for page in $pages; do
    th=$(zcat "$page" | grep -m 1 '^\.TH ' || true)
    if ! grep -qF "\"redis-rs $upstream\"" <<<"$th"; then
        echo "${page#"$tmp/deb"}: .TH says ${th:-nothing}, the package is version $full" >&2
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "man pages: version $upstream, as the package ($full)"

if [ -n "$ddeb" ]; then
    dbg_version=$(dpkg-deb -f "$ddeb" Version)
    [ "$dbg_version" = "$full" ] || { echo "$ddeb is version $dbg_version, $deb is $full" >&2; bad=1; }
    dpkg-deb -x "$ddeb" "$tmp/ddeb"
    for bin in "$tmp"/deb/usr/bin/*; do
        name=${bin#"$tmp/deb"}
        id=$(readelf -n "$bin" | sed -n 's/^ *Build ID: //p')
        if [ -z "$id" ]; then
            echo "$name has no build ID" >&2
            bad=1
            continue
        fi
        # readelf's whole output first: with pipefail, `readelf | grep -q` fails whenever grep
        # stops reading before readelf is done writing (SIGPIPE), which depends on timing.
        sections=$(readelf -S "$bin")
        if grep -q '\.debug_info' <<<"$sections"; then
            echo "$name still carries its debug info" >&2
            bad=1
        fi
        debug="$tmp/ddeb/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
        debug_sections=$( [ -f "$debug" ] && readelf -S "$debug" 2>/dev/null || true)
        if ! grep -q '\.debug_info' <<<"$debug_sections"; then
            echo "$name: no debug info for build ID $id in $ddeb" >&2
            bad=1
        fi
    done
    [ "$bad" = 0 ] && echo "debug symbols: every binary's, by build ID, in $(basename "$ddeb")"
fi
exit "$bad"
