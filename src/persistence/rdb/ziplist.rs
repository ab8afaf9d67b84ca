//! Redis's ziplist (ziplist.c), read only: Redis 7.0 still loads the ziplist-encoded types of
//! older RDB files (LIST_ZIPLIST, ZSET_ZIPLIST, HASH_ZIPLIST, LIST_QUICKLIST nodes). Layout:
//! total bytes (u32 LE), offset of the last entry (u32 LE), count (u16 LE, 65535 = "count it"),
//! entries, 0xFF. An entry is the previous entry's size (1 byte, or 0xFE and a u32 LE), an
//! encoding with its data.

use super::{BlobError, Element};

const HEADER: usize = 10;
const END: u8 = 0xFF;
const BIG_PREVLEN: u8 = 0xFE;
const COUNT_UNKNOWN: usize = 65535;

/// Validates a whole ziplist (as ziplistValidateIntegrity does deeply) and returns its elements.
pub fn decode(zl: &[u8]) -> Result<Vec<Element<'_>>, BlobError> {
    if zl.len() < HEADER + 1 {
        return Err(BlobError::new(0, "ziplist shorter than its header"));
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    if total != zl.len() {
        return Err(BlobError::new(0, format!("ziplist header claims {total} bytes but has {}", zl.len())));
    }
    let tail = u32::from_le_bytes([zl[4], zl[5], zl[6], zl[7]]) as usize;
    let declared = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    let mut out = Vec::new();
    let mut pos = HEADER;
    let mut prev_size = 0usize;
    let mut last_start = HEADER;
    loop {
        let Some(&first) = zl.get(pos) else {
            return Err(BlobError::new(pos, "ziplist without terminator"));
        };
        if first == END {
            break;
        }
        let (prevlen, prevlen_size) = read_prevlen(zl, pos)?;
        if prevlen != prev_size {
            return Err(BlobError::new(pos, "ziplist entry with a wrong previous length"));
        }
        let (element, body) = decode_body(zl, pos + prevlen_size)?;
        last_start = pos;
        prev_size = prevlen_size + body;
        pos += prev_size;
        out.push(element);
    }
    if pos + 1 != zl.len() {
        return Err(BlobError::new(pos, "ziplist terminator before its end"));
    }
    if tail != last_start {
        return Err(BlobError::new(4, "ziplist tail offset does not point at its last entry"));
    }
    if declared != COUNT_UNKNOWN && declared != out.len() {
        return Err(BlobError::new(8, format!("ziplist header counts {declared} elements but holds {}", out.len())));
    }
    Ok(out)
}

fn read_prevlen(zl: &[u8], pos: usize) -> Result<(usize, usize), BlobError> {
    if zl[pos] != BIG_PREVLEN {
        return Ok((zl[pos] as usize, 1));
    }
    let b = zl.get(pos + 1..pos + 5).ok_or_else(|| BlobError::new(pos, "ziplist entry runs past the end"))?;
    Ok((u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5))
}

/// The element encoded at `pos` and the size of its encoding plus data.
fn decode_body(zl: &[u8], pos: usize) -> Result<(Element<'_>, usize), BlobError> {
    let past_end = || BlobError::new(pos, "ziplist entry runs past the end");
    let bytes = |from: usize, n: usize| zl.get(pos + from..pos + from + n).ok_or_else(past_end);
    let int_le = |n: usize| -> Result<i64, BlobError> {
        let b = bytes(1, n)?;
        let mut raw = [0u8; 8];
        raw[..n].copy_from_slice(b);
        let shift = 64 - 8 * n as u32;
        Ok((i64::from_le_bytes(raw) << shift) >> shift)
    };
    let enc = *zl.get(pos).ok_or_else(past_end)?;
    Ok(match enc >> 6 {
        0 => {
            let len = (enc & 0x3F) as usize;
            (Element::Str(bytes(1, len)?), 1 + len)
        }
        1 => {
            let len = (((enc & 0x3F) as usize) << 8) | bytes(1, 1)?[0] as usize;
            (Element::Str(bytes(2, len)?), 2 + len)
        }
        2 if enc == 0x80 => {
            let b = bytes(1, 4)?;
            let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            (Element::Str(bytes(5, len)?), 5 + len)
        }
        2 => return Err(BlobError::new(pos, format!("ziplist entry with invalid encoding byte {enc:#04x}"))),
        _ => match enc {
            0xC0 => (Element::Int(int_le(2)?), 3),
            0xD0 => (Element::Int(int_le(4)?), 5),
            0xE0 => (Element::Int(int_le(8)?), 9),
            0xF0 => (Element::Int(int_le(3)?), 4),
            0xFE => (Element::Int(int_le(1)?), 2),
            0xF1..=0xFD => (Element::Int((enc & 0x0F) as i64 - 1), 1),
            _ => return Err(BlobError::new(pos, format!("ziplist entry with invalid encoding byte {enc:#04x}"))),
        },
    })
}

/// Builds a ziplist as ziplist.c would for these elements (canonical integers as integers), for
/// the loader's tests.
#[cfg(test)]
pub(crate) fn build(elements: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = HEADER;
    for e in elements {
        tail = HEADER + body.len();
        let start = body.len();
        if prev < BIG_PREVLEN as usize {
            body.push(prev as u8);
        } else {
            body.push(BIG_PREVLEN);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match crate::util::numbers::parse_i64(e) {
            Some(n @ 0..=12) => body.push(0xF1 + n as u8),
            Some(n) if i8::try_from(n).is_ok() => body.extend_from_slice(&[0xFE, n as u8]),
            Some(n) if i16::try_from(n).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(n as i16).to_le_bytes());
            }
            Some(n) => {
                body.push(0xE0);
                body.extend_from_slice(&n.to_le_bytes());
            }
            None if e.len() < 64 => {
                body.push(e.len() as u8);
                body.extend_from_slice(e);
            }
            None if e.len() < 16384 => {
                body.extend_from_slice(&[0x40 | (e.len() >> 8) as u8, e.len() as u8]);
                body.extend_from_slice(e);
            }
            None => {
                body.push(0x80);
                body.extend_from_slice(&(e.len() as u32).to_be_bytes());
                body.extend_from_slice(e);
            }
        }
        prev = body.len() - start;
    }
    let mut zl = Vec::new();
    zl.extend_from_slice(&((HEADER + body.len() + 1) as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(elements.len().min(COUNT_UNKNOWN) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist as ziplist.c builds it for ["ab", 7, -2, 300, 100000] (entries by hand).
    fn fixture() -> Vec<u8> {
        let entries: Vec<Vec<u8>> = vec![
            vec![0x02, b'a', b'b'],       // 6-bit string
            vec![0xF8],                   // immediate 7
            vec![0xFE, 0xFE],             // int8 -2
            vec![0xC0, 0x2C, 0x01],       // int16 300
            vec![0xF0, 0xA0, 0x86, 0x01], // int24 100000
        ];
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 0;
        for e in &entries {
            tail = 10 + body.len();
            body.push(prev as u8);
            body.extend_from_slice(e);
            prev = e.len() + 1;
        }
        let total = 10 + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(0xFF);
        zl
    }

    #[test]
    fn decodes_hand_built_ziplist() {
        let zl = fixture();
        let got: Vec<Vec<u8>> = decode(&zl).unwrap().iter().map(|e| e.to_bytes()).collect();
        let want: Vec<&[u8]> = vec![b"ab", b"7", b"-2", b"300", b"100000"];
        assert_eq!(got, want);
    }

    #[test]
    fn decodes_long_strings_and_wide_ints() {
        let long = vec![b'z'; 300];
        let mut e1 = vec![0x41, 0x2C];
        e1.extend_from_slice(&long);
        let mut e2 = vec![0xFE];
        e2.extend_from_slice(&(e1.len() as u32 + 1).to_le_bytes());
        e2.push(0xE0);
        e2.extend_from_slice(&i64::MIN.to_le_bytes());
        let mut zl = Vec::new();
        let total = 10 + 1 + e1.len() + e2.len() + 1;
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&((11 + e1.len()) as u32).to_le_bytes());
        zl.extend_from_slice(&2u16.to_le_bytes());
        zl.push(0);
        zl.extend_from_slice(&e1);
        zl.extend_from_slice(&e2);
        zl.push(0xFF);
        let got = decode(&zl).unwrap();
        assert_eq!(got[0].to_bytes().len(), 300);
        assert!(matches!(got[1], Element::Int(i64::MIN)));
    }

    #[test]
    fn builder_round_trips() {
        let long = vec![b'w'; 20000];
        let mid = vec![b'm'; 300];
        let elements: Vec<&[u8]> =
            vec![b"", b"x", b"0", b"12", b"13", b"-128", b"1000", b"-9223372036854775808", &mid, &long, b"end"];
        let got: Vec<Vec<u8>> = decode(&build(&elements)).unwrap().iter().map(|e| e.to_bytes()).collect();
        assert_eq!(got, elements.iter().map(|e| e.to_vec()).collect::<Vec<_>>());
        assert!(decode(&build(&[])).unwrap().is_empty());
    }

    #[test]
    fn corrupt_ziplists_are_errors() {
        let good = fixture();
        let mut bad_tail = good.clone();
        bad_tail[4] += 1;
        assert_eq!(decode(&bad_tail).unwrap_err().pos, 4);
        let mut bad_prev = good.clone();
        bad_prev[14] = 9;
        assert_eq!(decode(&bad_prev).unwrap_err().pos, 14);
        let mut bad_count = good.clone();
        bad_count[8] = 1;
        assert_eq!(decode(&bad_count).unwrap_err().pos, 8);
        let mut bad_enc = good.clone();
        bad_enc[11] = 0x85;
        assert_eq!(decode(&bad_enc).unwrap_err().pos, 11);
        let mut no_end = good.clone();
        let last = no_end.len() - 1;
        no_end[last] = 0;
        assert!(decode(&no_end).is_err());
    }
}
