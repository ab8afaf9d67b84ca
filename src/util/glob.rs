//! Glob-style pattern matching: an exact port of Redis 7.0's
//! `stringmatchlen()` (src/util.c), used by KEYS, SCAN MATCH, PSUBSCRIBE,
//! PUBSUB CHANNELS, CONFIG GET and friends.
//!
//! Supported syntax, exactly as Redis interprets it:
//!
//! * `*` matches any run of bytes (including none, but see the empty-subject
//!   quirk below), `?` matches exactly one byte;
//! * `[abc]`, `[^abc]`, `[a-z]` (a reversed range such as `[z-a]` is swapped),
//!   `\x` inside a class matches `x` literally;
//! * `\x` outside a class matches `x` literally; a trailing lone `\` matches a
//!   literal backslash.
//!
//! Quirks that are reproduced on purpose because clients can observe them:
//!
//! * An empty subject only matches the empty pattern: `*` and `**` do NOT
//!   match `""` (Redis 7.0 loops `while (patternLen && stringLen)`).  KEYS
//!   hides this for the literal pattern `*` because it skips matching
//!   altogether in that case, so callers must do the same to agree.
//! * An unterminated class (`[abc` with no `]`) is treated as if it were
//!   closed at the end of the pattern, so `[abc` matches `a`, and `[^` matches
//!   any single byte.
//! * Ranges compare bytes as C `char`, which is signed on x86-64 (the
//!   platform Redis is built for here), so bytes >= 0x80 sort below ASCII:
//!   `[a-\xff]` is the range -1..=97, matching `\xff` and `\x00`..=`a` but
//!   not `\x80`..=`\xfe`.
//! * `nocase` folds ASCII letters only (`tolower()` in the C locale).
//! * Recursion through `*` is capped at 1000 nested stars; deeper patterns
//!   simply fail to match (Redis 7.0.x's protection against abusive
//!   patterns).

/// Maximum nesting of `*` recursion before Redis gives up with "no match".
const MAX_NESTING: u32 = 1000;

/// Returns true if `string` matches the glob `pattern`.
///
/// Never panics and runs in polynomial time for any input: the
/// `skip_longer_matches` short-circuit (the Redis CVE-2022-36021 fix) stops
/// the classic exponential backtracking on patterns like `*a*a*a*...b`.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_impl(pattern, string, nocase, &mut skip_longer_matches, 0)
}

/// Returns true if `pattern` contains no glob metacharacter, i.e. it can only
/// match the byte string equal to itself. KEYS/SCAN can then do a single
/// dictionary lookup instead of a full scan.
///
/// `]`, `^` and `-` are only special inside a class, which can't exist
/// without `[`, so they count as plain bytes. A pattern containing `\` is
/// reported as not plain even though it could be unescaped: keeping this
/// predicate trivially correct matters more than that rare fast path.
pub fn is_plain_pattern(p: &[u8]) -> bool {
    !p.iter().any(|&b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

/// The C code walks NUL-terminated buffers and deliberately peeks one byte
/// past the end of the pattern (`pattern[1] == '*'` on the last byte, the
/// trailing `*pattern == '*'` scan). Reading 0 out of bounds reproduces the
/// terminator it would have seen there.
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// C `tolower()` in the "C" locale: only ASCII letters change.
#[inline]
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// Port of `stringmatchlen_impl`. Positions are indices rather than moving
/// pointers; `pattern.len() - p` plays the role of `patternLen` (the C code
/// always moves pointer and length together, so this is equivalent).
fn match_impl(pattern: &[u8], string: &[u8], nocase: bool, skip_longer_matches: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns: each nested `*` costs a stack
    // frame, and Redis answers "no match" past this depth.
    if nesting > MAX_NESTING {
        return false;
    }

    let plen = pattern.len();
    let slen = string.len();
    let mut p = 0usize;
    let mut s = 0usize;

    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                // Collapse a run of stars: `**` is the same as `*`.
                while p < plen && at(pattern, p + 1) == b'*' {
                    p += 1;
                }
                if plen - p == 1 {
                    return true; // a trailing star matches the rest
                }
                while s < slen {
                    if match_impl(&pattern[p + 1..], &string[s..], nocase, skip_longer_matches, nesting + 1) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    s += 1;
                }
                // The rest of the pattern matches at no position of the rest
                // of the string, so letting an *earlier* star swallow more
                // bytes can't help either (it would only start the rest later
                // in the string). Tell every enclosing star to stop: this is
                // what turns exponential backtracking into polynomial time.
                *skip_longer_matches = true;
                return false;
            }
            b'?' => {
                s += 1;
            }
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    let remaining = plen.saturating_sub(p);
                    let pc = at(pattern, p);
                    if pc == b'\\' && remaining >= 2 {
                        // Escaped byte inside a class: literal, and compared
                        // case-sensitively even with nocase (as in Redis).
                        p += 1;
                        if pattern[p] == c {
                            matched = true;
                        }
                    } else if pc == b']' {
                        break;
                    } else if remaining == 0 {
                        // Unterminated class: step back onto the last byte so
                        // the common `p += 1` below lands exactly at the end.
                        p -= 1;
                        break;
                    } else if remaining >= 3 && pattern[p + 1] == b'-' {
                        // Range. C compares plain `char`, signed on x86-64,
                        // so bytes >= 0x80 sort below ASCII.
                        let mut start = pattern[p] as i8;
                        let mut end = pattern[p + 2] as i8;
                        let mut ch = c as i8;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            // tolower() leaves negative (non-ASCII) values
                            // alone, and ASCII stays in 0..=127 after folding.
                            start = (start as u8).to_ascii_lowercase() as i8;
                            end = (end as u8).to_ascii_lowercase() as i8;
                            ch = (ch as u8).to_ascii_lowercase() as i8;
                        }
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if fold(pc, nocase) == fold(c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            pc => {
                // `\x` matches `x`; a lone trailing `\` matches itself.
                let lit = if pc == b'\\' && plen - p >= 2 {
                    p += 1;
                    pattern[p]
                } else {
                    pc
                };
                if fold(lit, nocase) != fold(string[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            // Subject exhausted: trailing stars may still match nothing.
            while at(pattern, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn basics() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abd"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*", "anything"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*llo", "hello"));
        assert!(m("he*", "he"));
        assert!(m("he**", "he"));
        assert!(!m("he*x", "he"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
    }

    #[test]
    fn empty_subject_only_matches_empty_pattern() {
        // Verified against redis-server 7.0.15: SET "" v; KEYS ** -> empty.
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(!m("[a]", ""));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Reversed ranges are swapped.
        assert!(m("[z-a]", "q"));
        assert!(m("[^z-a]", "A"));
        // `-` first or last is a literal.
        assert!(m("[-a]", "-"));
        // ...but `[a-]` is the (swapped, unterminated) range `]`..=`a`,
        // because the range check only needs three bytes after `[`.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "_"));
        // Escapes inside classes.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[\\-]", "\\"));
        // `]` as first byte closes an empty class, which matches nothing.
        assert!(!m("[]a]", "a"));
        assert!(!m("[]", "a"));
        assert!(m("[^]", "a"));
    }

    #[test]
    fn unterminated_class() {
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        assert!(m("[^", "^"));
        assert!(!m("[^", "ab"));
        assert!(m("[a-", "-"));
        assert!(m("[a-", "a"));
        assert!(m("[\\", "\\"));
        assert!(!m("x[", "x"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\", "\\"));
        assert!(m("\\\\", "\\"));
        assert!(m("\\a", "a"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HeLLo", "hello"));
        assert!(mi("h[A-Z]llo", "hello"));
        assert!(mi("h[a-z]llo", "hEllo"));
        assert!(mi("H[E]LLO", "hello"));
        assert!(!m("HeLLo", "hello"));
        // Escaped bytes inside a class stay case-sensitive.
        assert!(!mi("[\\A]", "a"));
        // Only ASCII folds.
        assert!(!string_match(b"\xc9", b"\xe9", true));
    }

    #[test]
    fn signed_char_ranges() {
        // Bytes >= 0x80 are negative as C chars on x86-64: `[a-\xff]` is
        // the range -1..=97, so it holds 0xff and everything up to `a`.
        assert!(string_match(b"[a-\xff]", b"\xff", false));
        assert!(!string_match(b"[a-\xff]", b"\x80", false));
        assert!(string_match(b"[a-\xff]", b"0", false));
        assert!(!string_match(b"[a-\xff]", b"b", false));
        assert!(string_match(b"[\x80-\xff]", b"\x90", false));
        assert!(!string_match(b"[\x80-\xff]", b"a", false));
    }

    #[test]
    fn binary_safe() {
        assert!(string_match(b"a\0*", b"a\0bc", false));
        assert!(!string_match(b"a\0", b"a", false));
        assert!(string_match(b"[\0]", b"\0", false));
    }

    #[test]
    fn nesting_limit() {
        // Verified against redis-server 7.0.15: with key "a" x 1100,
        // ("a*" x 1001) matches but ("a*" x 1002) does not.
        let key = vec![b'a'; 1100];
        assert!(string_match(&b"a*".repeat(1001), &key, false));
        assert!(!string_match(&b"a*".repeat(1002), &key, false));
    }

    #[test]
    fn no_exponential_blowup() {
        // Without skip_longer_matches this takes longer than the age of the
        // universe; with it, it is effectively instant.
        let pattern = b"*a".repeat(60);
        let mut pattern = pattern;
        pattern.push(b'b');
        let subject = vec![b'a'; 5000];
        let start = std::time::Instant::now();
        assert!(!string_match(&pattern, &subject, false));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn plain_patterns() {
        assert!(is_plain_pattern(b"foo:bar"));
        assert!(is_plain_pattern(b""));
        assert!(is_plain_pattern(b"a]b^c-d"));
        assert!(!is_plain_pattern(b"foo*"));
        assert!(!is_plain_pattern(b"f?o"));
        assert!(!is_plain_pattern(b"f[o]"));
        assert!(!is_plain_pattern(b"f\\o"));
        // A plain pattern matches exactly itself.
        for p in [&b"abc"[..], b"", b"a]b", b"x^-y"] {
            assert!(string_match(p, p, false));
            let mut longer = p.to_vec();
            longer.push(b'z');
            assert!(!string_match(p, &longer, false));
            assert!(!string_match(&longer, p, false));
        }
    }

    #[test]
    fn never_panics_on_odd_inputs() {
        let alphabet: &[u8] = b"*?[]^-\\a\0\xff";
        // Every pattern up to length 4 over a nasty alphabet, against a few
        // subjects; any out-of-bounds access would panic here.
        let mut pats: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &pats {
                for &c in alphabet {
                    let mut q = p.clone();
                    q.push(c);
                    next.push(q);
                }
            }
            pats.extend(next.clone());
            pats.dedup();
            if pats.len() > 20000 {
                break;
            }
        }
        for p in &pats {
            for s in [&b""[..], b"a", b"\\", b"a-]", b"\xff\0"] {
                let _ = string_match(p, s, false);
                let _ = string_match(p, s, true);
            }
        }
    }
}
