//! LZF compression exactly as Redis 7.0.15's lzf_c.c (liblzf 3.6 built with HLOG 16, VERY_FAST,
//! offsets in the hash table), so that compressed strings in RDB files and DUMP payloads are
//! byte-identical to Redis's. The `lzf` crate decodes the format fine, but its encoder takes
//! different matches near the end of the input and tests the output room differently, so its
//! output (and whether it compresses at all) differs from Redis's.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

fn first(input: &[u8], at: usize) -> u32 {
    (u32::from(input[at]) << 8) | u32::from(input.get(at + 1).copied().unwrap_or(0))
}

fn next(h: u32, input: &[u8], at: usize) -> u32 {
    (h << 8) | u32::from(input[at + 2])
}

fn slot(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// lzf_compress: `input` compressed into at most `room` bytes, or None when it does not fit
/// (Redis's return of 0, by the same conservative room checks).
pub fn compress(input: &[u8], room: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || room == 0 {
        return None;
    }
    // The room checks keep every write below `room`; the slack only guards against a slip.
    let mut out = vec![0u8; room + 4];
    // Positions of 3-byte sequences seen; 0 is "none", so a match never starts at offset 0.
    let mut htab = vec![0usize; HSIZE];
    let (mut ip, mut op, mut lit) = (0usize, 1usize, 0usize);
    let mut hval = first(input, 0);
    while ip + 2 < in_len {
        hval = next(hval, input, ip);
        let h = slot(hval);
        let r = htab[h];
        htab[h] = ip;
        let off = ip.wrapping_sub(r).wrapping_sub(1);
        if r > 0 && off < MAX_OFF && input[r + 2] == input[ip + 2] && input[r..r + 2] == input[ip..ip + 2] {
            let mut len = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= room && op - usize::from(lit == 0) + 3 + 1 >= room {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            // C's unrolled first 16 steps do not look at maxlen; the rest of the match does.
            let mut stopped = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        stopped = true;
                        break;
                    }
                }
            }
            if !stopped {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2;
            lit = 0;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            ip -= 2;
            hval = first(input, ip);
            for _ in 0..2 {
                hval = next(hval, input, ip);
                htab[slot(hval)] = ip;
                ip += 1;
            }
        } else {
            if op >= room {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > room {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_decodes_back() {
        let inputs: Vec<Vec<u8>> = vec![
            b"abcabcabcabcabcabcabcabcabc".to_vec(),
            vec![0; 1000],
            (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect(),
            b"the quick brown fox jumps over the lazy dog, the quick brown fox".to_vec(),
        ];
        for input in inputs {
            let packed = compress(&input, input.len() - 4).expect("compressible");
            assert_eq!(lzf::decompress(&packed, input.len()).unwrap(), input);
        }
    }

    #[test]
    fn random_inputs_and_rooms_never_panic_and_decode_back() {
        let mut rng = fastrand::Rng::with_seed(19);
        for _ in 0..3000 {
            let len = rng.usize(1..400);
            // Few distinct bytes and repeated runs, so that matches of every length occur.
            let alphabet = rng.u8(1..6);
            let mut input = Vec::with_capacity(len);
            while input.len() < len {
                let b = rng.u8(..alphabet);
                let run = rng.usize(1..40).min(len - input.len());
                input.extend(std::iter::repeat_n(b, run));
            }
            for room in [1, 2, len / 2, len.saturating_sub(4), len, len + 64] {
                if let Some(packed) = compress(&input, room) {
                    assert!(packed.len() <= room);
                    assert_eq!(lzf::decompress(&packed, len).unwrap(), input);
                }
            }
        }
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let noise: Vec<u8> = (0..100u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert_eq!(compress(&noise, noise.len() - 4), None);
    }

    #[test]
    fn matches_redis_on_an_intset() {
        // Redis 7.0.15's DUMP of SADD s 1 2 -5 100000 70000000000: the intset blob compressed.
        let mut intset = vec![8, 0, 0, 0, 5, 0, 0, 0];
        for n in [-5i64, 1, 2, 100000, 70000000000] {
            intset.extend_from_slice(&n.to_le_bytes());
        }
        let want: &[u8] = b"\x04\x08\x00\x00\x00\x05 \x03\x01\xfb\xff\x80\x00\x00\x01 \x0b@\x00\x00\x02@\x04 \x00\x01\xa0\x86\xa0\x11\x03<SL\x10 \x0f";
        assert_eq!(compress(&intset, intset.len() - 4).unwrap(), want);
    }
}
