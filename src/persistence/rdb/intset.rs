//! Redis's intset (intset.c): the blob of SET_INTSET. Layout: encoding (u32 LE: 2, 4 or 8 bytes
//! per member), length (u32 LE), then the members in ascending order, little-endian, all in the
//! smallest width that holds every one of them.

use super::BlobError;

const HEADER: usize = 8;

/// Encodes ascending, distinct integers as intsetAdd would have left them.
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let width = sorted.iter().map(|&v| width_of(v)).max().unwrap_or(2);
    let mut out = Vec::with_capacity(HEADER + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// _intsetValueEncoding.
fn width_of(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Validates an intset (intsetValidateIntegrity with deep checks: a known width, a size that
/// matches the count, strictly ascending members) and returns its members.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, BlobError> {
    if blob.len() < HEADER {
        return Err(BlobError::new(0, "intset shorter than its header"));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(BlobError::new(0, format!("intset with invalid encoding {width}")));
    }
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if (blob.len() - HEADER) / width != count || (blob.len() - HEADER) % width != 0 {
        return Err(BlobError::new(4, format!("intset of {count} members has {} bytes", blob.len())));
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for (i, chunk) in blob[HEADER..].chunks_exact(width).enumerate() {
        let v = match width {
            2 => i16::from_le_bytes([chunk[0], chunk[1]]) as i64,
            4 => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as i64,
            _ => i64::from_le_bytes(chunk.try_into().map_err(|_| BlobError::new(HEADER, "intset member cut short"))?),
        };
        if out.last().is_some_and(|&prev| prev >= v) {
            return Err(BlobError::new(HEADER + i * width, "intset members out of order or repeated"));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_widest_member() {
        assert_eq!(encode(&[1, 2]), vec![2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
        assert_eq!(&encode(&[-1, 70000])[..4], &[4, 0, 0, 0]);
        assert_eq!(&encode(&[i64::MIN, 0])[..4], &[8, 0, 0, 0]);
        for set in [vec![], vec![-5, 3], vec![-40000, 1, 40000], vec![i64::MIN, -1, 0, i64::MAX]] {
            assert_eq!(decode(&encode(&set)).unwrap(), set);
        }
    }

    #[test]
    fn corrupt_intsets_are_errors() {
        let good = encode(&[1, 2, 3]);
        let mut bad_width = good.clone();
        bad_width[0] = 3;
        assert_eq!(decode(&bad_width).unwrap_err().pos, 0);
        let mut bad_count = good.clone();
        bad_count[4] = 4;
        assert_eq!(decode(&bad_count).unwrap_err().pos, 4);
        let mut unordered = good.clone();
        unordered[10] = 9;
        assert_eq!(decode(&unordered).unwrap_err().pos, 12);
        assert!(decode(&good[..5]).is_err());
        assert!(decode(&good[..11]).is_err());
    }
}
