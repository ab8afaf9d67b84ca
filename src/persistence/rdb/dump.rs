//! DUMP payloads (createDumpPayload, verifyDumpPayload): RDB records followed by the RDB version
//! (2 bytes, little-endian) and the CRC64 of everything before the checksum (8 bytes,
//! little-endian). DUMP's payload holds one value (its type byte and the value, no key);
//! FUNCTION DUMP's one FUNCTION2 record per library.

use super::read::{read_function_record, read_object};
use super::{code, LoadError, WriteOptions, Writer, CRC64, RDB_VERSION};
use crate::keyspace::Value;
use crate::types::EncodingLimits;

/// The version and checksum after the records.
const FOOTER_LEN: usize = 10;

/// `body` with the footer that makes it a payload.
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// verifyDumpPayload: the payload's RDB version, when it is one this server reads and the
/// checksum matches (or is not checked: DEBUG SET-SKIP-CHECKSUM-VALIDATION 1).
pub fn verify_payload(payload: &[u8], skip_checksum: bool) -> Option<u16> {
    let footer_at = payload.len().checked_sub(FOOTER_LEN)?;
    let footer = &payload[footer_at..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if u32::from(version) > RDB_VERSION {
        return None;
    }
    if skip_checksum {
        return Some(version);
    }
    let crc = CRC64.checksum(&payload[..payload.len() - 8]);
    (crc.to_le_bytes()[..] == footer[2..]).then_some(version)
}

/// DUMP's payload (createDumpPayload): the value as rdbSaveObjectType and rdbSaveObject write
/// it, then the footer.
pub fn value_payload(value: &Value, compression: bool, list_fill: i64) -> std::io::Result<Vec<u8>> {
    let opts = WriteOptions { compression, checksum: false };
    let mut w = Writer::headless(Vec::new(), opts).with_list_fill(list_fill);
    w.object(value)?;
    Ok(seal(w.into_inner()))
}

/// RESTORE's reading of a verified payload (rdbLoadObjectType and rdbLoadObject): the value,
/// its encoding chosen by `limits`. As in Redis the value is read from the whole payload and
/// what follows it is not looked at; an empty collection is an error.
pub fn payload_value(payload: &[u8], limits: &EncodingLimits) -> Result<Value, LoadError> {
    read_object(payload, limits)
}

/// FUNCTION DUMP's payload (functionDumpCommand): each library's code as rdbSaveFunctions
/// writes it, then the footer.
pub fn functions_payload<'a>(codes: impl IntoIterator<Item = &'a [u8]>, compression: bool) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::headless(Vec::new(), WriteOptions { compression, checksum: false });
    for code in codes {
        w.function(code)?;
    }
    Ok(seal(w.into_inner()))
}

/// The libraries of a verified FUNCTION RESTORE payload, in order, as functionRestoreCommand
/// reads them: records are read while more than the footer remains, and a record's string is
/// read from the whole payload (so it may run into the footer, as in Redis). Each item is a
/// library's code or the error (Redis's text) that ends the restore.
pub struct FunctionRecords<'a> {
    payload: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> FunctionRecords<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        FunctionRecords { payload, pos: 0, failed: false }
    }
}

impl Iterator for FunctionRecords<'_> {
    type Item = Result<Vec<u8>, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.payload.len().saturating_sub(self.pos) <= FOOTER_LEN {
            return None;
        }
        let record_type = self.payload[self.pos];
        self.pos += 1;
        let item = match record_type {
            code::FUNCTION2 | code::FUNCTION_PRE_GA => {
                let pre_ga = record_type == code::FUNCTION_PRE_GA;
                read_function_record(&self.payload[self.pos..], pre_ga).map(|(code, len)| {
                    self.pos += len;
                    code
                })
            }
            _ => Err("given type is not a function"),
        };
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(payload: &[u8]) -> Vec<Result<Vec<u8>, &'static str>> {
        FunctionRecords::new(payload).collect()
    }

    #[test]
    fn empty_dump_is_what_redis_7_0_writes() {
        // FUNCTION DUMP of Redis 7.0.15 without libraries.
        let want = [0x0a, 0x00, 0x5d, 0x9b, 0x5c, 0x40, 0x0f, 0x7f, 0xa2, 0xda];
        let payload = functions_payload([], true).unwrap();
        assert_eq!(payload, want);
        assert_eq!(verify_payload(&payload, false), Some(10));
        assert!(records(&payload).is_empty());
    }

    #[test]
    fn libraries_round_trip_compressed_or_not() {
        let long = format!("#!lua name=big\n{}", "redis.register_function('f', function() return 1 end)\n".repeat(20));
        let codes: Vec<&[u8]> = vec![b"#!lua name=a\nreturn", long.as_bytes(), b"12"];
        for compression in [false, true] {
            let payload = functions_payload(codes.iter().copied(), compression).unwrap();
            assert_eq!(verify_payload(&payload, false), Some(10));
            let got: Vec<Vec<u8>> = records(&payload).into_iter().map(Result::unwrap).collect();
            assert_eq!(got, codes.iter().map(|c| c.to_vec()).collect::<Vec<_>>());
            assert_eq!(payload[0], code::FUNCTION2);
        }
        let compressed = functions_payload([long.as_bytes()], true).unwrap();
        assert_eq!(compressed[1], 0xC3, "LZF-encoded");
        assert!(compressed.len() < long.len());
    }

    #[test]
    fn corrupt_or_foreign_payloads_are_refused() {
        let mut payload = functions_payload([&b"#!lua name=a\nx"[..]], false).unwrap();
        assert!(verify_payload(&payload[..9], false).is_none());
        assert!(verify_payload(b"", false).is_none());
        let last = payload.len() - 1;
        payload[last] ^= 1;
        assert!(verify_payload(&payload, false).is_none());
        assert_eq!(verify_payload(&payload, true), Some(10));
        // A newer RDB version is refused even with a matching checksum.
        let mut newer = vec![code::FUNCTION2, 1, b'x', 11, 0];
        newer.extend_from_slice(&CRC64.checksum(&newer).to_le_bytes());
        assert!(verify_payload(&newer, false).is_none());
        assert!(verify_payload(&newer, true).is_none());
        assert_eq!(records(&seal(vec![code::STRING, 1, b'k', 1, b'v'])), vec![Err("given type is not a function")]);
        // A pre-GA record reads its engine's name from the footer, which is too short for it.
        assert_eq!(records(&seal(vec![code::FUNCTION_PRE_GA, 1, b'k'])), vec![Err("Failed loading engine name")]);
        let pre_ga = [vec![code::FUNCTION_PRE_GA, 1, b'n', 3], b"lua".to_vec(), vec![0, 1, b'x']].concat();
        assert_eq!(records(&seal(pre_ga)), vec![Ok(b"#!lua name=n\nx".to_vec())]);
        // A string longer than what is left, and an error stops the reading.
        let items = records(&seal(vec![code::FUNCTION2, 1, b'a', code::FUNCTION2, 60, b'b', code::FUNCTION2, 1, b'c']));
        assert_eq!(items, vec![Ok(b"a".to_vec()), Err("Failed loading library payload")]);
    }

    #[test]
    fn a_record_may_run_into_the_footer() {
        // The string's length covers the version bytes: Redis reads it from the whole payload,
        // and stops since fewer than 10 bytes are left after it.
        let payload = seal(vec![code::FUNCTION2, 3, b'a']);
        assert_eq!(records(&payload), vec![Ok(vec![b'a', 10, 0])]);
    }
}
