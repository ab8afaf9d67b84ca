//! Redis's zipmap (zipmap.c), read only: the HASH_ZIPMAP blob of RDB files from Redis before 2.6.
//! Layout: a count byte (254 = "count it"), then key/value pairs: length, key, length, a free
//! byte count, value, that many unused bytes; 0xFF ends it. A length is one byte below 254, or 254
//! and a u32 (little-endian as written on x86).

use super::BlobError;

const END: u8 = 0xFF;
const BIG_LEN: u8 = 254;

/// A field and its value, borrowed from the zipmap.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Validates a whole zipmap and returns its (field, value) pairs in order.
pub fn decode(zm: &[u8]) -> Result<Vec<Pair<'_>>, BlobError> {
    if zm.len() < 2 {
        return Err(BlobError::new(0, "zipmap shorter than its header"));
    }
    let declared = zm[0] as usize;
    let mut pos = 1;
    let mut out = Vec::new();
    loop {
        match zm.get(pos) {
            None => return Err(BlobError::new(pos, "zipmap without terminator")),
            Some(&END) => break,
            Some(_) => {}
        }
        let (key, after_key) = read_string(zm, pos, 0)?;
        let (value, after_value) = read_string(zm, after_key, 1)?;
        out.push((key, value));
        pos = after_value;
    }
    if pos + 1 != zm.len() {
        return Err(BlobError::new(pos, "zipmap terminator before its end"));
    }
    if declared < BIG_LEN as usize && declared != out.len() {
        return Err(BlobError::new(0, format!("zipmap header counts {declared} pairs but holds {}", out.len())));
    }
    Ok(out)
}

/// A length-prefixed string at `pos`; a value (`has_free` = 1) has a free byte count after its
/// length and that many padding bytes after its data. Returns the string and the position after it.
fn read_string(zm: &[u8], pos: usize, has_free: usize) -> Result<(&[u8], usize), BlobError> {
    let past_end = || BlobError::new(pos, "zipmap entry runs past the end");
    let first = *zm.get(pos).ok_or_else(past_end)?;
    let (len, len_size) = match first {
        END => return Err(BlobError::new(pos, "zipmap key without a value")),
        BIG_LEN => {
            let b = zm.get(pos + 1..pos + 5).ok_or_else(past_end)?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5)
        }
        n => (n as usize, 1),
    };
    let free = if has_free == 1 { *zm.get(pos + len_size).ok_or_else(past_end)? as usize } else { 0 };
    let start = pos + len_size + has_free;
    let data = zm.get(start..start + len).ok_or_else(past_end)?;
    let next = start + len + free;
    if next > zm.len() {
        return Err(past_end());
    }
    Ok((data, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zipmap.c's own example: {"foo" => "bar", "hello" => "world"}, with one free byte after "bar".
    fn fixture() -> Vec<u8> {
        let mut zm = vec![2];
        zm.extend_from_slice(&[3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0]);
        zm.extend_from_slice(&[5, b'h', b'e', b'l', b'l', b'o', 5, 0, b'w', b'o', b'r', b'l', b'd']);
        zm.push(0xFF);
        zm
    }

    #[test]
    fn decodes_hand_built_zipmap() {
        let zm = fixture();
        let pairs = decode(&zm).unwrap();
        assert_eq!(pairs, vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]);
    }

    #[test]
    fn decodes_long_values() {
        let long = vec![b'v'; 300];
        let mut zm = vec![1, 1, b'k', 254];
        zm.extend_from_slice(&300u32.to_le_bytes());
        zm.push(0);
        zm.extend_from_slice(&long);
        zm.push(0xFF);
        assert_eq!(decode(&zm).unwrap()[0].1.len(), 300);
    }

    #[test]
    fn corrupt_zipmaps_are_errors() {
        let good = fixture();
        let mut bad_count = good.clone();
        bad_count[0] = 3;
        assert_eq!(decode(&bad_count).unwrap_err().pos, 0);
        let mut long_key = good.clone();
        long_key[1] = 200;
        assert_eq!(decode(&long_key).unwrap_err().pos, 1);
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut big_free = good;
        big_free[6] = 100;
        assert!(decode(&big_free).is_err());
    }
}
