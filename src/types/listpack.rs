//! Redis's listpack (listpack.c): the blob behind HASH_LISTPACK, ZSET_LISTPACK and the nodes of
//! LIST_QUICKLIST_2. Layout: total bytes (u32 LE), element count (u16 LE, 65535 = "count it"),
//! entries, 0xFF. An entry is an encoding byte with its data, then its own size written backwards
//! (backlen) so that the list can be walked from the tail. Streams keep their nodes in this form
//! (t_stream.c), so the cursor functions here walk and edit a listpack in place.

/// An element of a listpack or ziplist: these store integers in binary.
#[derive(Debug, Clone, Copy)]
pub enum Element<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Element<'_> {
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            Element::Str(s) => s.to_vec(),
            Element::Int(n) => n.to_string().into_bytes(),
        }
    }

    /// The element as a RESP bulk string (an integer in its decimal form, as lpGet gives it).
    pub fn write_bulk(self, out: &mut Vec<u8>) {
        match self {
            Element::Str(s) => crate::protocol::Reply::write_bulk(out, s),
            Element::Int(n) => crate::protocol::Reply::write_bulk(out, itoa::Buffer::new().format(n).as_bytes()),
        }
    }

    /// The element as an integer (lpGetIntegerIfValid: a string that is a canonical integer counts).
    pub fn as_int(self) -> Option<i64> {
        match self {
            Element::Int(n) => Some(n),
            Element::Str(s) => canonical_int(s),
        }
    }

    /// Whether the element equals these bytes (as lpGet's string form).
    pub fn eq_bytes(self, b: &[u8]) -> bool {
        match self {
            Element::Str(s) => s == b,
            Element::Int(n) => {
                let mut buf = itoa::Buffer::new();
                buf.format(n).as_bytes() == b
            }
        }
    }
}

/// A structural error inside a blob (listpack, ziplist, intset, zipmap), at a position in the blob.
#[derive(Debug)]
pub struct BlobError {
    pub pos: usize,
    pub message: String,
}

impl BlobError {
    pub fn new(pos: usize, message: impl Into<String>) -> BlobError {
        BlobError { pos, message: message.into() }
    }
}

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
/// The count field saturates here; a larger list must be counted by walking it.
const COUNT_UNKNOWN: usize = 65535;

/// Builds a listpack by appending elements, encoding each as lpAppend does: a string that is a
/// canonical integer is stored as the smallest integer encoding.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder { buf: vec![0; HEADER], count: 0 }
    }

    /// Bytes of the finished listpack so far (including the terminator still to come).
    #[cfg(test)]
    pub fn size(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn push(&mut self, element: &[u8]) {
        match canonical_int(element) {
            Some(n) => self.push_int(n),
            None => self.push_str(element),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        encode_int(&mut self.buf, v);
        self.finish_entry(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        encode_str(&mut self.buf, s);
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let entry_len = self.buf.len() - start;
        encode_backlen(&mut self.buf, entry_len);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(COUNT_UNKNOWN) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Bytes of an empty listpack (header and terminator).
pub const EMPTY_SIZE: usize = HEADER + 1;

/// Bytes an element adds to a listpack (encoding, data and back length), as `Builder::push` adds.
pub fn entry_size(element: &[u8]) -> usize {
    let body = match canonical_int(element) {
        Some(v) => int_size(v),
        None => str_header_size(element.len()) + element.len(),
    };
    body + backlen_size(body)
}

/// Bytes of an integer entry's encoding and data.
fn int_size(v: i64) -> usize {
    let mut buf = Vec::with_capacity(9);
    encode_int(&mut buf, v);
    buf.len()
}

fn str_header_size(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    }
}

/// The integer a string stands for when it is a canonical decimal i64 (lpStringToInt64 is string2ll).
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    crate::util::numbers::parse_i64(s)
}

fn encode_str(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 64 {
        buf.push(0x80 | len as u8);
    } else if len < 4096 {
        buf.push(0xE0 | (len >> 8) as u8);
        buf.push((len & 0xFF) as u8);
    } else {
        buf.push(0xF0);
        buf.extend_from_slice(&(len as u32).to_le_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_int(buf: &mut Vec<u8>, v: i64) {
    if (0..=127).contains(&v) {
        buf.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let u = (v as u64) & 0x1FFF;
        buf.push(0xC0 | (u >> 8) as u8);
        buf.push((u & 0xFF) as u8);
    } else if (-32768..=32767).contains(&v) {
        buf.push(0xF1);
        buf.extend_from_slice(&(v as i16).to_le_bytes());
    } else if (-8_388_608..=8_388_607).contains(&v) {
        buf.push(0xF2);
        buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
    } else if i32::try_from(v).is_ok() {
        buf.push(0xF3);
        buf.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        buf.push(0xF4);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

/// lpEncodeBacklen: the entry's size in 7-bit groups, most significant first, every byte but the
/// first flagged with 0x80, so that reading backwards stops at the unflagged one.
fn encode_backlen(buf: &mut Vec<u8>, len: usize) {
    let groups = backlen_size(len);
    for i in (0..groups).rev() {
        let part = ((len >> (7 * i)) & 0x7F) as u8;
        let flagged = i + 1 != groups;
        buf.push(if flagged { part | 0x80 } else { part });
    }
}

/// How many bytes lpEncodeBacklen uses for an entry of `len` bytes (its thresholds, which are one
/// below the powers of 128 from two bytes on).
fn backlen_size(len: usize) -> usize {
    if len <= 127 {
        1
    } else if len < 16383 {
        2
    } else if len < 2_097_151 {
        3
    } else if len < 268_435_455 {
        4
    } else {
        5
    }
}

/// An empty listpack (lpNew).
pub fn new_empty() -> Vec<u8> {
    Builder::new().finish()
}

/// Position of the first element, or None when the listpack is empty (lpFirst).
/// The cursor functions below take listpacks built here or validated by `decode`.
pub fn first(lp: &[u8]) -> Option<usize> {
    (lp.get(HEADER).is_some_and(|&b| b != EOF)).then_some(HEADER)
}

/// Position of the element after the one at `pos`, or None at the end (lpNext).
pub fn next(lp: &[u8], pos: usize) -> Option<usize> {
    let (_, entry_len) = decode_entry(lp, pos).ok()?;
    let after = pos + entry_len + backlen_size(entry_len);
    (lp.get(after).is_some_and(|&b| b != EOF)).then_some(after)
}

/// Position of the element before the one at `pos` (or before the terminator when `pos` is the
/// terminator's), or None at the start (lpPrev), found through the previous element's backlen.
pub fn prev(lp: &[u8], pos: usize) -> Option<usize> {
    if pos <= HEADER {
        return None;
    }
    let mut p = pos - 1;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = *lp.get(p)?;
        len |= ((b & 0x7F) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        p = p.checked_sub(1)?;
    }
    p.checked_sub(len).filter(|&start| start >= HEADER)
}

/// Position of the last element, or None when empty (lpLast).
pub fn last(lp: &[u8]) -> Option<usize> {
    prev(lp, lp.len().checked_sub(1)?)
}

/// The element at `pos` (lpGet); a corrupt entry reads as the integer 0 (callers only walk
/// listpacks they built or validated).
pub fn get(lp: &[u8], pos: usize) -> Element<'_> {
    decode_entry(lp, pos).map(|(e, _)| e).unwrap_or(Element::Int(0))
}

/// The element at `pos` as an integer (lpGetInteger); 0 when it is not one.
pub fn get_int(lp: &[u8], pos: usize) -> i64 {
    get(lp, pos).as_int().unwrap_or(0)
}

/// Total bytes and element count in the header, kept in step after an edit.
fn set_header(lp: &mut [u8], count: usize) {
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    let count = count.min(COUNT_UNKNOWN) as u16;
    lp[4..6].copy_from_slice(&count.to_le_bytes());
}

/// The element count: the header's, or a walk when it saturated (lpLength).
pub fn len(lp: &[u8]) -> usize {
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if declared != COUNT_UNKNOWN {
        return declared;
    }
    let mut n = 0;
    let mut at = first(lp);
    while let Some(p) = at {
        n += 1;
        at = next(lp, p);
    }
    n
}

/// Appends an integer element (lpAppendInteger).
pub fn append_int(lp: &mut Vec<u8>, v: i64) {
    append_with(lp, |buf| encode_int(buf, v));
}

/// Appends a string element, stored as an integer when it is a canonical one (lpAppend).
pub fn append(lp: &mut Vec<u8>, element: &[u8]) {
    append_with(lp, |buf| match canonical_int(element) {
        Some(n) => encode_int(buf, n),
        None => encode_str(buf, element),
    });
}

/// Appends the element `encode` writes, in place of the end mark, then its back length and the
/// end mark again: no temporary entry, no shifting.
fn append_with(lp: &mut Vec<u8>, encode: impl FnOnce(&mut Vec<u8>)) {
    let count = len(lp) + 1;
    lp.pop();
    let start = lp.len();
    encode(lp);
    let entry_len = lp.len() - start;
    encode_backlen(lp, entry_len);
    lp.push(EOF);
    set_header(lp, count);
}

/// Replaces the element at `pos` with an integer (lpReplaceInteger); the elements after it
/// move when the new encoding's size differs.
pub fn replace_int(lp: &mut Vec<u8>, pos: usize, v: i64) {
    let Ok((_, old_len)) = decode_entry(lp, pos) else { return };
    let old_total = old_len + backlen_size(old_len);
    let mut entry = Vec::with_capacity(10);
    encode_int(&mut entry, v);
    let entry_len = entry.len();
    encode_backlen(&mut entry, entry_len);
    if entry.len() == old_total {
        // The usual case (a counter keeping its encoding's size): overwritten in place.
        lp[pos..pos + old_total].copy_from_slice(&entry);
        return;
    }
    let count = len(lp);
    lp.splice(pos..pos + old_total, entry);
    set_header(lp, count);
}

/// Validates a whole listpack and returns its elements in order.
pub fn decode(lp: &[u8]) -> Result<Vec<Element<'_>>, BlobError> {
    if lp.len() < HEADER + 1 {
        return Err(BlobError::new(0, "listpack shorter than its header"));
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(BlobError::new(0, format!("listpack header claims {total} bytes but has {}", lp.len())));
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    let mut out = Vec::new();
    let mut pos = HEADER;
    loop {
        let Some(&first) = lp.get(pos) else {
            return Err(BlobError::new(pos, "listpack without terminator"));
        };
        if first == EOF {
            break;
        }
        let (element, entry_len) = decode_entry(lp, pos)?;
        let back_at = pos + entry_len;
        let back_len = backlen_size(entry_len);
        let back = lp
            .get(back_at..back_at + back_len)
            .ok_or_else(|| BlobError::new(back_at, "listpack entry runs past the end"))?;
        if decode_backlen(back) != Some(entry_len) {
            return Err(BlobError::new(back_at, "listpack entry with a wrong back length"));
        }
        out.push(element);
        pos = back_at + back_len;
    }
    if pos + 1 != lp.len() {
        return Err(BlobError::new(pos, "listpack terminator before its end"));
    }
    if declared != COUNT_UNKNOWN && declared != out.len() {
        return Err(BlobError::new(4, format!("listpack header counts {declared} elements but holds {}", out.len())));
    }
    Ok(out)
}

fn decode_backlen(back: &[u8]) -> Option<usize> {
    let (&first, rest) = back.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let mut v = first as usize;
    for &b in rest {
        if b & 0x80 == 0 {
            return None;
        }
        v = (v << 7) | (b & 0x7F) as usize;
    }
    Some(v)
}

/// One entry at `pos`: its element and the size of its encoding plus data (without backlen).
fn decode_entry(lp: &[u8], pos: usize) -> Result<(Element<'_>, usize), BlobError> {
    let enc = lp[pos];
    let bytes = |from: usize, n: usize| -> Result<&[u8], BlobError> {
        lp.get(pos + from..pos + from + n).ok_or_else(|| BlobError::new(pos, "listpack entry runs past the end"))
    };
    let int_le = |n: usize| -> Result<i64, BlobError> {
        let b = bytes(1, n)?;
        let mut raw = [0u8; 8];
        raw[..n].copy_from_slice(b);
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        Ok((i64::from_le_bytes(raw) << shift) >> shift)
    };
    Ok(match enc {
        0x00..=0x7F => (Element::Int(enc as i64), 1),
        0x80..=0xBF => {
            let len = (enc & 0x3F) as usize;
            (Element::Str(bytes(1, len)?), 1 + len)
        }
        0xC0..=0xDF => {
            let lo = bytes(1, 1)?[0] as u64;
            let u = (((enc & 0x1F) as u64) << 8) | lo;
            let v = if u >= 1 << 12 { u as i64 - (1 << 13) } else { u as i64 };
            (Element::Int(v), 2)
        }
        0xE0..=0xEF => {
            let len = (((enc & 0x0F) as usize) << 8) | bytes(1, 1)?[0] as usize;
            (Element::Str(bytes(2, len)?), 2 + len)
        }
        0xF0 => {
            let b = bytes(1, 4)?;
            let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
            (Element::Str(bytes(5, len)?), 5 + len)
        }
        0xF1 => (Element::Int(int_le(2)?), 3),
        0xF2 => (Element::Int(int_le(3)?), 4),
        0xF3 => (Element::Int(int_le(4)?), 5),
        0xF4 => (Element::Int(int_le(8)?), 9),
        _ => return Err(BlobError::new(pos, format!("listpack entry with invalid encoding byte {enc:#04x}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(elements: &[&[u8]]) -> Vec<u8> {
        let mut b = Builder::new();
        for e in elements {
            b.push(e);
        }
        b.finish()
    }

    #[test]
    fn round_trips_every_encoding() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let ints: Vec<String> = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ]
        .iter()
        .map(|n| n.to_string())
        .collect();
        let mut elements: Vec<&[u8]> = ints.iter().map(|s| s.as_bytes()).collect();
        elements.extend([&b""[..], b"a", b"01", b"-0", b"+1", &mid, &long]);
        let lp = build(&elements);
        let decoded = decode(&lp).unwrap();
        let back: Vec<Vec<u8>> = decoded.iter().map(|e| e.to_bytes()).collect();
        assert_eq!(back, elements.iter().map(|e| e.to_vec()).collect::<Vec<_>>());
        assert!(matches!(decoded[0], Element::Int(0)));
        assert!(matches!(decoded[ints.len() + 2], Element::Str(b"01")));
    }

    #[test]
    fn encodes_like_redis() {
        // lpAppend of "a", 5, -1, 1000 as listpack.c writes them.
        let lp = build(&[b"a", b"5", b"-1", b"1000"]);
        let expected: Vec<u8> = vec![
            18, 0, 0, 0, 4, 0, // header
            0x81, b'a', 2, // "a"
            5, 1, // 5
            0xDF, 0xFF, 2, // -1 as 13-bit
            0xC3, 0xE8, 2, // 1000 as 13-bit
            0xFF,
        ];
        assert_eq!(lp, expected);
    }

    #[test]
    fn entry_size_is_what_push_adds() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let mut b = Builder::new();
        assert_eq!(b.size(), EMPTY_SIZE);
        for e in [&b"5"[..], b"-1", b"1000", b"40000", b"9000000", b"3000000000", b"a", b"007", &mid, &long] {
            let before = b.size();
            b.push(e);
            assert_eq!(b.size() - before, entry_size(e), "{:?}", String::from_utf8_lossy(e));
        }
    }

    #[test]
    fn backlen_of_long_entries() {
        for len in [127usize, 128, 16382, 16383, 16384, 2_097_150, 2_097_151] {
            let mut buf = Vec::new();
            encode_backlen(&mut buf, len);
            assert_eq!(buf.len(), backlen_size(len));
            assert_eq!(decode_backlen(&buf), Some(len), "{len}");
        }
    }

    #[test]
    fn many_elements_saturate_the_count() {
        let mut b = Builder::new();
        for i in 0..70000 {
            b.push_int(i);
        }
        let lp = b.finish();
        assert_eq!(&lp[4..6], &[0xFF, 0xFF]);
        assert_eq!(decode(&lp).unwrap().len(), 70000);
    }

    #[test]
    fn cursor_walks_and_edits_in_place() {
        let long = vec![b'z'; 200];
        let mut lp = new_empty();
        assert_eq!(first(&lp), None);
        assert_eq!(last(&lp), None);
        append(&mut lp, b"abc");
        append_int(&mut lp, 5);
        append(&mut lp, &long);
        append(&mut lp, b"-77");
        assert_eq!(lp, build(&[b"abc", b"5", &long, b"-77"]));
        let mut fwd = Vec::new();
        let mut at = first(&lp);
        while let Some(p) = at {
            fwd.push(get(&lp, p).to_bytes());
            at = next(&lp, p);
        }
        let mut back = Vec::new();
        let mut at = last(&lp);
        while let Some(p) = at {
            back.push(get(&lp, p).to_bytes());
            at = prev(&lp, p);
        }
        back.reverse();
        assert_eq!(fwd, back);
        assert_eq!(len(&lp), 4);
        // A 1-byte integer becomes a 3-byte one and back: what follows moves.
        let p = next(&lp, HEADER).unwrap();
        replace_int(&mut lp, p, 40000);
        assert_eq!(lp, build(&[b"abc", b"40000", &long, b"-77"]));
        replace_int(&mut lp, p, 6);
        assert_eq!(lp, build(&[b"abc", b"6", &long, b"-77"]));
        assert_eq!(get_int(&lp, last(&lp).unwrap()), -77);
        assert!(decode(&lp).is_ok());
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let good = build(&[b"hello", b"7"]);
        let mut short = good.clone();
        short.pop();
        assert!(decode(&short).is_err());
        let mut bad_total = good.clone();
        bad_total[0] += 1;
        assert_eq!(decode(&bad_total).unwrap_err().pos, 0);
        let mut bad_count = good.clone();
        bad_count[4] = 3;
        assert_eq!(decode(&bad_count).unwrap_err().pos, 4);
        let mut bad_backlen = good.clone();
        bad_backlen[12] = 9;
        assert_eq!(decode(&bad_backlen).unwrap_err().pos, 12);
        let mut bad_str_len = good.clone();
        bad_str_len[6] = 0x80 | 40;
        assert!(decode(&bad_str_len).is_err());
        let mut bad_enc = good;
        bad_enc[6] = 0xF5;
        assert_eq!(decode(&bad_enc).unwrap_err().pos, 6);
    }
}
