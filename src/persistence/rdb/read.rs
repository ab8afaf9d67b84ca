//! Reads an RDB stream (versions 1 to 10) as Redis 7.0's rdbLoad does, validating as it goes.

mod stream;

use std::io::{BufReader, Read};

use super::{code, intset, ziplist, zipmap, BlobError, Element, Event, LoadError, LoadedKey, CRC64, RDB_VERSION};
use crate::keyspace::Value;
use crate::types::listpack;
use crate::types::EncodingLimits;
use crate::types::{hash, zset, Hash, List, Set, ZSet};

/// The library of a function record at the start of `input` (after its opcode, in a FUNCTION
/// DUMP payload), and the bytes it took; or Redis's text for what could not be read.
pub(crate) fn read_function_record(input: &[u8], pre_ga: bool) -> Result<(Vec<u8>, usize), &'static str> {
    let mut r = Input { inner: BufReader::new(input), offset: 0, digest: CRC64.digest() };
    let code = function_record(&mut r, pre_ga).map_err(|(text, _)| text)?;
    Ok((code, r.offset as usize))
}

/// A DUMP payload's value: its type byte, then the value (rdbLoadObjectType, rdbLoadObject).
pub(crate) fn read_object(payload: &[u8], limits: &EncodingLimits) -> Result<Value, LoadError> {
    let mut r = Input { inner: BufReader::new(payload), offset: 0, digest: CRC64.digest() };
    let value_type = r.byte()?;
    check_value_type(&r, value_type, 0)?;
    read_value(&mut r, value_type, 0, limits)?.ok_or_else(|| r.error_at(0, "empty collection"))
}

/// rdbFunctionLoad's reading: a FUNCTION2 record is the library's code; a pre-GA one (Redis 7.0
/// release candidates) holds its name, engine, an optional description and the code without its
/// `#!` line, which Redis 7.0 turns into today's code (`#!<engine> name=<name>\n<code>`, the
/// description dropped). Errors carry Redis's text.
fn function_record<R: Read>(r: &mut Input<R>, pre_ga: bool) -> Result<Vec<u8>, (&'static str, LoadError)> {
    fn read<T>(text: &'static str, v: Result<T, LoadError>) -> Result<T, (&'static str, LoadError)> {
        v.map_err(|e| (text, e))
    }
    if !pre_ga {
        return read("Failed loading library payload", r.string());
    }
    let name = read("Failed loading library name", r.string())?;
    let engine = read("Failed loading engine name", r.string())?;
    let has_description = read("Failed loading library description indicator", r.length())?;
    if has_description != 0 {
        read("Failed loading library description", r.string())?;
    }
    let body = read("Failed loading library blob", r.string())?;
    let mut code = b"#!".to_vec();
    code.extend_from_slice(&engine);
    code.extend_from_slice(b" name=");
    code.extend_from_slice(&name);
    code.push(b'\n');
    code.extend_from_slice(&body);
    Ok(code)
}

/// The first version with a CRC64 after the EOF opcode.
const FIRST_VERSION_WITH_CHECKSUM: u32 = 5;
/// Strings are read in pieces of this size, so that a corrupt length cannot allocate more memory
/// than the file really holds.
const READ_CHUNK: usize = 64 * 1024;
/// No LZF stream expands more than this (a 3-byte back reference copies at most 264 bytes).
const LZF_MAX_RATIO: u64 = 90;

/// Reads a whole RDB stream, calling `on_event` for each item in file order. `limits` decides the
/// encodings of the loaded collections (a listpack hash with more entries than allowed loads as a
/// hashtable, as Redis converts on load). Keys whose value is empty are skipped, as Redis does.
pub fn load<R: Read>(
    input: R,
    limits: &EncodingLimits,
    mut on_event: impl FnMut(Event) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let mut r = Input { inner: BufReader::new(input), offset: 0, digest: CRC64.digest() };
    let version = read_header(&mut r)?;
    let mut db = 0usize;
    let mut meta = KeyMeta::default();
    loop {
        let at = r.offset;
        let op = r.byte()?;
        match op {
            code::EXPIRETIME => {
                let secs = i32::from_le_bytes(r.array()?);
                meta.expire_at_ms = Some((secs as i64 * 1000).max(0) as u64);
            }
            code::EXPIRETIME_MS => {
                let ms = i64::from_le_bytes(r.array()?);
                meta.expire_at_ms = Some(ms.max(0) as u64);
            }
            code::FREQ => meta.lfu_freq = Some(r.byte()?),
            code::IDLE => meta.lru_idle_secs = Some(r.length()?),
            code::EOF => break,
            code::SELECTDB => {
                let n = r.length()?;
                db = usize::try_from(n).map_err(|_| r.error_at(at, format!("database number {n} out of range")))?;
            }
            code::RESIZEDB => {
                let keys = r.length()?;
                let expires = r.length()?;
                on_event(Event::ResizeDb { db, keys, expires })?;
            }
            code::AUX => {
                let key = r.string()?;
                let value = r.string()?;
                on_event(Event::Aux { key, value })?;
            }
            code::MODULE_AUX => {
                return Err(r.error_at(at, "module auxiliary data (MODULE_AUX) found, but no modules are loaded"))
            }
            code::FUNCTION2 | code::FUNCTION_PRE_GA => {
                let code = function_record(&mut r, op == code::FUNCTION_PRE_GA).map_err(|(text, e)| LoadError {
                    message: format!("Failed loading library, {text} ({})", e.message),
                    ..e
                })?;
                // What the library's code fails on is found by the caller: it is placed here.
                on_event(Event::Function(code)).map_err(|e| r.error_at(at, e.message))?;
            }
            value_type => {
                check_value_type(&r, value_type, at)?;
                let key = r.string()?;
                let value = read_value(&mut r, value_type, at, limits)?;
                let meta = std::mem::take(&mut meta);
                if let Some(value) = value {
                    on_event(Event::Key(LoadedKey {
                        db,
                        key,
                        value,
                        expire_at_ms: meta.expire_at_ms,
                        lru_idle_secs: meta.lru_idle_secs,
                        lfu_freq: meta.lfu_freq,
                    }))?;
                }
            }
        }
    }
    if version >= FIRST_VERSION_WITH_CHECKSUM {
        check_crc(&mut r)?;
    }
    Ok(())
}

/// What the opcodes before a key said about it.
#[derive(Default)]
struct KeyMeta {
    expire_at_ms: Option<u64>,
    lru_idle_secs: Option<u64>,
    lfu_freq: Option<u8>,
}

fn read_header<R: Read>(r: &mut Input<R>) -> Result<u32, LoadError> {
    let magic: [u8; 9] = r.array()?;
    if &magic[..5] != b"REDIS" {
        return Err(r.error_at(0, "wrong signature: not an RDB file"));
    }
    let digits = &magic[5..];
    let version = std::str::from_utf8(digits)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u32>().ok());
    match version {
        Some(v) if (1..=RDB_VERSION).contains(&v) => Ok(v),
        _ => Err(r.error_at(5, format!("can't handle RDB format version {}", String::from_utf8_lossy(digits)))),
    }
}

fn check_crc<R: Read>(r: &mut Input<R>) -> Result<(), LoadError> {
    let computed = r.digest.clone().finalize();
    let at = r.offset;
    let stored = u64::from_le_bytes(r.array()?);
    if stored != 0 && stored != computed {
        return Err(r.error_at(at, format!("wrong RDB checksum: expected {stored:016x}, computed {computed:016x}")));
    }
    Ok(())
}

/// The input with its offset and running checksum.
struct Input<R: Read> {
    inner: BufReader<R>,
    offset: u64,
    digest: crc::Digest<'static, u64>,
}

/// A string read as a blob, and where its bytes came from (for the offsets of errors inside it).
struct Blob {
    data: Vec<u8>,
    start: u64,
    compressed: bool,
}

/// A length field: a number, or the marker of a specially encoded string.
enum Len {
    Plain(u64),
    Special(u8),
}

impl<R: Read> Input<R> {
    fn error_at(&self, offset: u64, message: impl Into<String>) -> LoadError {
        LoadError { offset, message: message.into() }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), LoadError> {
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => return Err(self.error_at(self.offset + done as u64, super::TRUNCATED)),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error_at(self.offset + done as u64, format!("read error: {e}"))),
            }
        }
        self.digest.update(buf);
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    fn byte(&mut self) -> Result<u8, LoadError> {
        Ok(self.array::<1>()?[0])
    }

    /// `n` bytes, allocated as they arrive.
    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, LoadError> {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            let piece = left.min(READ_CHUNK as u64) as usize;
            let at = out.len();
            out.resize(at + piece, 0);
            self.fill(&mut out[at..])?;
            left -= piece as u64;
        }
        Ok(out)
    }

    /// rdbLoadLenByRef.
    fn length_or_special(&mut self) -> Result<Len, LoadError> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            code::LEN_6BIT => Len::Plain((first & 0x3F) as u64),
            code::LEN_14BIT => Len::Plain((((first & 0x3F) as u64) << 8) | self.byte()? as u64),
            code::LEN_ENCVAL => Len::Special(first & 0x3F),
            _ if first == code::LEN_32BIT => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
            _ if first == code::LEN_64BIT => Len::Plain(u64::from_be_bytes(self.array()?)),
            _ => return Err(self.error_at(self.offset - 1, format!("unknown length encoding {first:#04x}"))),
        })
    }

    fn length(&mut self) -> Result<u64, LoadError> {
        let at = self.offset;
        match self.length_or_special()? {
            Len::Plain(n) => Ok(n),
            Len::Special(_) => Err(self.error_at(at, "a string encoding where a length was expected")),
        }
    }

    /// A string in any of its encodings; integers come back in decimal.
    fn string(&mut self) -> Result<Vec<u8>, LoadError> {
        Ok(self.blob()?.data)
    }

    fn blob(&mut self) -> Result<Blob, LoadError> {
        let at = self.offset;
        let data = match self.length_or_special()? {
            Len::Plain(n) => {
                let start = self.offset;
                return Ok(Blob { data: self.bytes(n)?, start, compressed: false });
            }
            Len::Special(code::ENC_INT8) => (self.byte()? as i8).to_string().into_bytes(),
            Len::Special(code::ENC_INT16) => i16::from_le_bytes(self.array()?).to_string().into_bytes(),
            Len::Special(code::ENC_INT32) => i32::from_le_bytes(self.array()?).to_string().into_bytes(),
            Len::Special(code::ENC_LZF) => return self.lzf(at),
            Len::Special(other) => return Err(self.error_at(at, format!("unknown string encoding {other}"))),
        };
        Ok(Blob { data, start: at, compressed: false })
    }

    fn lzf(&mut self, at: u64) -> Result<Blob, LoadError> {
        let packed_len = self.length()?;
        let len = self.length()?;
        if len == 0 || packed_len == 0 || len > packed_len.saturating_mul(LZF_MAX_RATIO).saturating_add(64) {
            return Err(self.error_at(at, format!("impossible LZF lengths: {packed_len} bytes expanding to {len}")));
        }
        let packed = self.bytes(packed_len)?;
        // The LZF decoder computes positions in 32 bits; no Redis string comes near that size.
        let out_len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= i32::MAX as usize)
            .ok_or_else(|| self.error_at(at, "LZF string too long"))?;
        match lzf::decompress(&packed, out_len) {
            Ok(data) if data.len() == out_len => Ok(Blob { data, start: at, compressed: true }),
            _ => Err(self.error_at(at, "invalid LZF-compressed string")),
        }
    }

    /// A string that must decode as some blob format; errors get their offset in the file.
    fn decode_blob<T>(&mut self, decode: impl FnOnce(&[u8]) -> Result<T, BlobError>) -> Result<T, LoadError> {
        let blob = self.blob()?;
        decode(&blob.data).map_err(|e| {
            if blob.compressed {
                self.error_at(blob.start, format!("{} (byte {} of the LZF-compressed string)", e.message, e.pos))
            } else {
                self.error_at(blob.start + e.pos as u64, e.message)
            }
        })
    }

    /// rdbLoadDoubleValue: the text form of scores in the old ZSET type.
    fn text_double(&mut self) -> Result<f64, LoadError> {
        let at = self.offset;
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.bytes(n as u64)?;
                crate::util::numbers::parse_f64(&text).ok_or_else(|| self.error_at(at, "invalid score"))
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64, LoadError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

/// Refuses a byte that is no value type Redis 7.0 loads, before its key is read (rdbIsObjectType).
fn check_value_type<R: Read>(r: &Input<R>, value_type: u8, at: u64) -> Result<(), LoadError> {
    match value_type {
        code::MODULE_PRE_GA | code::MODULE_2 => {
            Err(r.error_at(at, "module values (MODULE) found, but no modules are loaded"))
        }
        code::STRING..=code::ZSET_2
        | code::HASH_ZIPMAP..=code::LIST_QUICKLIST
        | code::STREAM_LISTPACKS..=code::STREAM_LISTPACKS_2 => Ok(()),
        other => Err(r.error_at(at, format!("unknown RDB value type {other}"))),
    }
}

/// Reads the value of a key of type `value_type` (found at `at`); None for an empty collection.
fn read_value<R: Read>(
    r: &mut Input<R>,
    value_type: u8,
    at: u64,
    limits: &EncodingLimits,
) -> Result<Option<Value>, LoadError> {
    let value = match value_type {
        code::STRING => Value::string(r.string()?),
        code::LIST | code::LIST_ZIPLIST | code::LIST_QUICKLIST | code::LIST_QUICKLIST_2 => read_list(r, value_type)?,
        code::SET | code::SET_INTSET => read_set(r, value_type, at, limits)?,
        code::ZSET | code::ZSET_2 | code::ZSET_ZIPLIST | code::ZSET_LISTPACK => read_zset(r, value_type, at, limits)?,
        code::STREAM_LISTPACKS | code::STREAM_LISTPACKS_2 => stream::read_stream(r, value_type)?,
        _ => read_hash(r, value_type, at, limits)?,
    };
    Ok(Some(value).filter(|v| !is_empty_collection(v)))
}

fn read_list<R: Read>(r: &mut Input<R>, value_type: u8) -> Result<Value, LoadError> {
    match value_type {
        code::LIST => {
            let n = r.length()?;
            let mut list = List::new();
            for _ in 0..n {
                list.push_back(&r.string()?);
            }
            Ok(Value::List(Box::new(list)))
        }
        code::LIST_ZIPLIST => {
            let elements = r.decode_blob(|b| Ok(owned(ziplist::decode(b)?)))?;
            Ok(Value::List(Box::new(elements.iter().collect::<List>())))
        }
        _ => read_quicklist(r, value_type == code::LIST_QUICKLIST_2),
    }
}

fn read_set<R: Read>(r: &mut Input<R>, value_type: u8, at: u64, limits: &EncodingLimits) -> Result<Value, LoadError> {
    let members: Vec<Vec<u8>> = if value_type == code::SET_INTSET {
        r.decode_blob(intset::decode)?.iter().map(|n| n.to_string().into_bytes()).collect()
    } else {
        let n = r.length()?;
        let mut members = Vec::new();
        for _ in 0..n {
            members.push(r.string()?);
        }
        members
    };
    if let Some(dup) = first_duplicate(members.iter().map(Vec::as_slice)) {
        return Err(duplicate_error(r, at, "set member", dup));
    }
    Ok(Value::Set(Box::new(Set::from_members(members, limits.set_max_intset_entries))))
}

fn read_zset<R: Read>(r: &mut Input<R>, value_type: u8, at: u64, limits: &EncodingLimits) -> Result<Value, LoadError> {
    let (pairs, source) = match value_type {
        code::ZSET | code::ZSET_2 => {
            let n = r.length()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let member = r.string()?;
                let score = if value_type == code::ZSET_2 { r.binary_double()? } else { r.text_double()? };
                pairs.push((member, score));
            }
            (pairs, Source::Elements)
        }
        _ => {
            let elements = if value_type == code::ZSET_ZIPLIST {
                r.decode_blob(|b| Ok(owned(ziplist::decode(b)?)))?
            } else {
                r.decode_blob(|b| Ok(owned(listpack::decode(b)?)))?
            };
            (zset_pairs(r, at, elements)?, Source::Compact)
        }
    };
    zset_value(r, at, pairs, limits, source)
}

fn read_hash<R: Read>(r: &mut Input<R>, value_type: u8, at: u64, limits: &EncodingLimits) -> Result<Value, LoadError> {
    let (pairs, source) = match value_type {
        code::HASH => {
            let n = r.length()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let field = r.string()?;
                let value = r.string()?;
                pairs.push((field, value));
            }
            (pairs, Source::Elements)
        }
        // A zipmap converts like a hash read field by field (on entries or string length).
        code::HASH_ZIPMAP => {
            let pairs = r.decode_blob(|b| {
                Ok(zipmap::decode(b)?.into_iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect::<Vec<_>>())
            })?;
            (pairs, Source::Elements)
        }
        _ => {
            let elements = if value_type == code::HASH_ZIPLIST {
                r.decode_blob(|b| Ok(owned(ziplist::decode(b)?)))?
            } else {
                r.decode_blob(|b| Ok(owned(listpack::decode(b)?)))?
            };
            if elements.len() % 2 != 0 {
                return Err(r.error_at(at, "hash with an odd number of fields and values"));
            }
            let mut it = elements.into_iter();
            let mut pairs = Vec::new();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                pairs.push((f, v));
            }
            (pairs, Source::Compact)
        }
    };
    hash_value(r, at, pairs, limits, source)
}

fn owned(elements: Vec<Element<'_>>) -> Vec<Vec<u8>> {
    elements.into_iter().map(Element::to_bytes).collect()
}

fn is_empty_collection(v: &Value) -> bool {
    match v {
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        _ => false,
    }
}

/// LIST_QUICKLIST (ziplist nodes) or LIST_QUICKLIST_2 (a container kind, then a listpack or, for
/// a PLAIN node, one element). Empty nodes are skipped, as Redis does.
fn read_quicklist<R: Read>(r: &mut Input<R>, v2: bool) -> Result<Value, LoadError> {
    let nodes = r.length()?;
    let mut list = List::new();
    for _ in 0..nodes {
        let container = if v2 {
            let at = r.offset;
            let c = r.length()?;
            if c != code::CONTAINER_PLAIN && c != code::CONTAINER_PACKED {
                return Err(r.error_at(at, format!("unknown quicklist node container {c}")));
            }
            c
        } else {
            code::CONTAINER_PACKED
        };
        if container == code::CONTAINER_PLAIN {
            list.push_back(&r.string()?);
            continue;
        }
        let elements = if v2 {
            r.decode_blob(|b| Ok(owned(listpack::decode(b)?)))?
        } else {
            r.decode_blob(|b| Ok(owned(ziplist::decode(b)?)))?
        };
        for e in &elements {
            list.push_back(e);
        }
    }
    Ok(Value::List(Box::new(list)))
}

/// The first repeated item, if any (sorting references, so without copying the items).
fn first_duplicate<'a>(items: impl Iterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
    let mut sorted: Vec<&[u8]> = items.collect();
    sorted.sort_unstable();
    sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

fn duplicate_error<R: Read>(r: &Input<R>, at: u64, what: &str, item: &[u8]) -> LoadError {
    r.error_at(at, format!("duplicate {what} {:?}", String::from_utf8_lossy(item)))
}

/// How a loaded collection picks its encoding. Redis converts a loaded listpack or ziplist only when
/// it holds too many entries (long strings stay), while one read element by element (and a zipmap)
/// goes through the usual size checks.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Compact,
    Elements,
}

fn hash_value<R: Read>(
    r: &Input<R>,
    at: u64,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    limits: &EncodingLimits,
    source: Source,
) -> Result<Value, LoadError> {
    if let Some(dup) = first_duplicate(pairs.iter().map(|(f, _)| f.as_slice())) {
        return Err(duplicate_error(r, at, "hash field", dup));
    }
    let max_value = if source == Source::Compact { usize::MAX } else { limits.hash_max_listpack_value };
    let limits = hash::Limits { max_entries: limits.hash_max_listpack_entries, max_value };
    Ok(Value::Hash(Box::new(Hash::from_pairs(pairs, limits))))
}

/// Member/score pairs of a ziplist or listpack zset; a score is an integer or its text.
fn zset_pairs<R: Read>(r: &Input<R>, at: u64, elements: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, f64)>, LoadError> {
    if elements.len() % 2 != 0 {
        return Err(r.error_at(at, "sorted set with an odd number of members and scores"));
    }
    let mut it = elements.into_iter();
    let mut pairs = Vec::new();
    while let (Some(member), Some(score)) = (it.next(), it.next()) {
        let score = crate::util::numbers::parse_f64(&score)
            .ok_or_else(|| r.error_at(at, "sorted set with an invalid score"))?;
        pairs.push((member, score));
    }
    Ok(pairs)
}

fn zset_value<R: Read>(
    r: &Input<R>,
    at: u64,
    pairs: Vec<(Vec<u8>, f64)>,
    limits: &EncodingLimits,
    source: Source,
) -> Result<Value, LoadError> {
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err(r.error_at(at, "sorted set with a NaN score"));
    }
    if let Some(dup) = first_duplicate(pairs.iter().map(|(m, _)| m.as_slice())) {
        return Err(duplicate_error(r, at, "sorted set member", dup));
    }
    let max_value = if source == Source::Compact { usize::MAX } else { limits.zset_max_listpack_value };
    let limits = zset::Limits { max_entries: limits.zset_max_listpack_entries, max_value };
    Ok(Value::ZSet(Box::new(ZSet::from_pairs(pairs, limits))))
}

#[cfg(test)]
mod tests {
    use super::super::{WriteOptions, Writer};
    use super::*;

    fn events(bytes: &[u8]) -> Result<Vec<Event>, LoadError> {
        let mut out = Vec::new();
        load(bytes, &EncodingLimits::default(), |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// A file with the given body between a version-10 header and an EOF with no checksum.
    fn file(body: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(body);
        f.push(code::EOF);
        f.extend_from_slice(&[0; 8]);
        f
    }

    fn only_key(bytes: &[u8]) -> LoadedKey {
        let mut evs = events(bytes).unwrap();
        assert_eq!(evs.len(), 1);
        match evs.pop() {
            Some(Event::Key(k)) => k,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_every_length_encoding() {
        for (len, prefix) in [
            (5usize, vec![5u8]),
            (300, vec![0x41, 0x2C]),
            (70000, vec![0x80, 0, 1, 0x11, 0x70]),
            (70000, vec![0x81, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ] {
            let mut body = vec![code::STRING, 1, b'k'];
            body.extend_from_slice(&prefix);
            body.extend(std::iter::repeat_n(b'v', len));
            let k = only_key(&file(&body));
            assert_eq!(k.value.as_bytes().unwrap().len(), len);
        }
    }

    #[test]
    fn reads_integer_and_lzf_strings() {
        let cases: Vec<(Vec<u8>, &[u8])> = vec![
            (vec![0xC0, 0x80], b"-128"),
            (vec![0xC1, 0x00, 0x80], b"-32768"),
            (vec![0xC2, 0xFF, 0xFF, 0xFF, 0x7F], b"2147483647"),
        ];
        for (enc, want) in cases {
            let mut body = vec![code::STRING, 1, b'k'];
            body.extend_from_slice(&enc);
            assert_eq!(only_key(&file(&body)).value.as_bytes().unwrap().as_ref(), want);
        }
        let original = b"abcabcabcabcabcabcabcabcabcabcabcabc".repeat(3);
        let packed = lzf::compress(&original).unwrap();
        let mut body = vec![code::STRING, 1, b'k', 0xC3, packed.len() as u8, 0x40, original.len() as u8];
        body.extend_from_slice(&packed);
        assert_eq!(only_key(&file(&body)).value.as_bytes().unwrap().as_ref(), &original[..]);
    }

    #[test]
    fn writer_output_loads_back() {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression: true, checksum: true }).unwrap();
        w.aux("redis-ver", b"7.0.15").unwrap();
        w.aux("redis-bits", b"64").unwrap();
        w.select_db(3, 2, 1).unwrap();
        let long = "x".repeat(1000);
        w.key(b"s", &Value::string(&long), Some(1_900_000_000_000)).unwrap();
        w.key(b"n", &Value::string("-70000"), None).unwrap();
        let evs = events(&w.finish().unwrap()).unwrap();
        assert!(matches!(&evs[0], Event::Aux { key, value } if key == b"redis-ver" && value == b"7.0.15"));
        assert!(matches!(&evs[1], Event::Aux { value, .. } if value == b"64"));
        assert!(matches!(evs[2], Event::ResizeDb { db: 3, keys: 2, expires: 1 }));
        match &evs[3] {
            Event::Key(k) => {
                assert_eq!((k.db, k.key.as_slice(), k.expire_at_ms), (3, &b"s"[..], Some(1_900_000_000_000)));
                assert_eq!(k.value.as_bytes().unwrap().as_ref(), long.as_bytes());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&evs[4], Event::Key(k) if k.value == Value::Int(-70000) && k.expire_at_ms.is_none()));
    }

    #[test]
    fn refuses_bad_headers_and_versions() {
        let e = events(b"RODIS0010").unwrap_err();
        assert_eq!(e.offset, 0);
        let e = events(
            &file(&[])[..].iter().copied().enumerate().map(|(i, b)| if i == 8 { b'1' } else { b }).collect::<Vec<_>>(),
        )
        .unwrap_err();
        assert!(e.message.contains("version 0011"), "{e}");
        assert_eq!(e.to_string(), format!("{} at offset 5", e.message));
        let mut v0 = file(&[]);
        v0[7] = b'0';
        assert!(events(&v0).is_err());
        assert!(events(b"REDIS").is_err());
    }

    #[test]
    fn old_versions_have_no_checksum() {
        let mut f = b"REDIS0004".to_vec();
        f.extend_from_slice(&[code::STRING, 1, b'k', 1, b'v', code::EOF]);
        assert_eq!(events(&f).unwrap().len(), 1);
    }

    #[test]
    fn checksum_mismatch_is_an_error() {
        let w = Writer::new(Vec::new(), WriteOptions { compression: false, checksum: true }).unwrap();
        let mut f = w.finish().unwrap();
        assert!(events(&f).is_ok());
        let last = f.len() - 1;
        f[last] ^= 1;
        let e = events(&f).unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(e.message.contains("checksum"));
    }

    #[test]
    fn absurd_lengths_do_not_allocate() {
        let mut body = vec![code::STRING, 1, b'k', 0x81];
        body.extend_from_slice(&(1u64 << 60).to_be_bytes());
        let e = events(&file(&body)).unwrap_err();
        assert!(e.message.contains("end of file"));
        let mut lzf_body = vec![code::STRING, 1, b'k', 0xC3, 4, 0x81];
        lzf_body.extend_from_slice(&(1u64 << 60).to_be_bytes());
        lzf_body.extend_from_slice(&[0, b'a', b'b', b'c']);
        let e = events(&file(&lzf_body)).unwrap_err();
        assert_eq!(e.offset, 12);
        let mut list = vec![code::LIST, 1, b'k', 0x81];
        list.extend_from_slice(&(1u64 << 60).to_be_bytes());
        assert!(events(&file(&list)).is_err());
    }

    #[test]
    fn refuses_unsupported_things_by_name() {
        let e = events(&file(&[code::MODULE_AUX])).unwrap_err();
        assert!(e.message.contains("MODULE_AUX") && e.offset == 9, "{e}");
        let e = events(&file(&[code::MODULE_2, 1, b'k'])).unwrap_err();
        assert!(e.message.contains("module"), "{e}");
        // The type is refused before its key is read (here the file ends right after it).
        for t in [8u8, 20, 21, 100, 244] {
            let mut f = b"REDIS0010".to_vec();
            f.push(t);
            let e = events(&f).unwrap_err();
            assert!(e.message.contains(&format!("unknown RDB value type {t}")) && e.offset == 9, "{e}");
        }
    }

    #[test]
    fn functions_are_read_in_file_order() {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression: true, checksum: true }).unwrap();
        w.aux("redis-ver", b"7.0.15").unwrap();
        let long = format!("#!lua name=big\n{}", "redis.register_function('f', function() return 1 end)\n".repeat(9));
        w.function(b"#!lua name=a\nreturn").unwrap();
        w.function(long.as_bytes()).unwrap();
        w.select_db(0, 1, 0).unwrap();
        w.key(b"k", &Value::string("v"), None).unwrap();
        let evs = events(&w.finish().unwrap()).unwrap();
        assert!(matches!(&evs[1], Event::Function(c) if c == b"#!lua name=a\nreturn"));
        assert!(matches!(&evs[2], Event::Function(c) if c == long.as_bytes()));
        assert!(matches!(&evs[4], Event::Key(_)));
    }

    #[test]
    fn a_refused_function_fails_the_load_at_its_record() {
        let f = file(&[code::STRING, 1, b'k', 1, b'v', code::FUNCTION2, 2, b'#', b'!']);
        let e = load(&f[..], &EncodingLimits::default(), |ev| match ev {
            Event::Function(_) => Err(LoadError { offset: 0, message: "Failed loading library, bad".into() }),
            _ => Ok(()),
        })
        .unwrap_err();
        assert_eq!((e.offset, e.message.as_str()), (14, "Failed loading library, bad"));
        // A record cut short.
        let mut cut = b"REDIS0010".to_vec();
        cut.extend_from_slice(&[code::FUNCTION2, 10, b'#']);
        let e = events(&cut).unwrap_err();
        assert!(e.message.starts_with("Failed loading library, Failed loading library payload"), "{e}");
    }

    #[test]
    fn pre_ga_function_records_become_todays_code() {
        let mut body = vec![code::FUNCTION_PRE_GA];
        for part in [&b"old"[..], b"LUA"] {
            body.push(part.len() as u8);
            body.extend_from_slice(part);
        }
        body.extend_from_slice(&[1, 4, b'd', b'e', b's', b'c', 6]);
        body.extend_from_slice(b"return");
        let evs = events(&file(&body)).unwrap();
        assert!(matches!(&evs[0], Event::Function(c) if c == b"#!LUA name=old\nreturn"), "{evs:?}");
        let e = events(&file(&[code::FUNCTION_PRE_GA, 1, b'x'])).unwrap_err();
        assert!(e.message.starts_with("Failed loading library, Failed loading engine name"), "{e}");
    }

    #[test]
    fn duplicates_and_nan_scores_are_errors() {
        let set = file(&[code::SET, 1, b'k', 2, 1, b'a', 1, b'a']);
        assert!(events(&set).unwrap_err().message.contains("duplicate set member"));
        let hash = file(&[code::HASH, 1, b'k', 2, 1, b'f', 1, b'1', 1, b'f', 1, b'2']);
        assert!(events(&hash).unwrap_err().message.contains("duplicate hash field"));
        let zset = file(&[code::ZSET, 1, b'k', 1, 1, b'm', 253]);
        assert!(events(&zset).unwrap_err().message.contains("NaN"));
    }

    #[test]
    fn old_zset_scores_are_text() {
        let k = only_key(&file(&[code::ZSET, 1, b'k', 3, 1, b'a', 3, b'1', b'.', b'5', 1, b'b', 254, 1, b'c', 255]));
        let z = k.value.as_zset().unwrap();
        assert_eq!(z.score(b"a"), Some(1.5));
        assert_eq!(z.score(b"b"), Some(f64::INFINITY));
        assert_eq!(z.score(b"c"), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn expire_seconds_and_lru_lfu_attach_to_the_next_key() {
        let mut body = vec![code::EXPIRETIME];
        body.extend_from_slice(&2_000_000_000i32.to_le_bytes());
        body.extend_from_slice(&[
            code::IDLE,
            10,
            code::FREQ,
            5,
            code::STRING,
            1,
            b'a',
            1,
            b'x',
            code::STRING,
            1,
            b'b',
            1,
            b'y',
        ]);
        let evs = events(&file(&body)).unwrap();
        match (&evs[0], &evs[1]) {
            (Event::Key(a), Event::Key(b)) => {
                assert_eq!((a.expire_at_ms, a.lru_idle_secs, a.lfu_freq), (Some(2_000_000_000_000), Some(10), Some(5)));
                assert_eq!((b.expire_at_ms, b.lru_idle_secs, b.lfu_freq), (None, None, None));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_collections_are_skipped() {
        let evs = events(&file(&[code::LIST, 1, b'k', 0, code::SET, 1, b's', 0])).unwrap();
        assert!(evs.is_empty());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression: true, checksum: true }).unwrap();
        w.select_db(0, 1, 0).unwrap();
        let list: List = (0..50).map(|i| format!("e{i}")).collect();
        w.key(b"l", &Value::List(Box::new(list)), None).unwrap();
        let f = w.finish().unwrap();
        for cut in 0..f.len() {
            let e = events(&f[..cut]).unwrap_err();
            assert!(e.offset <= cut as u64, "{cut}: {e}");
        }
    }

    #[test]
    fn blob_errors_carry_file_offsets() {
        // A SET_INTSET whose width field is invalid: the blob starts at offset 13 (after the
        // header, the type, the key and the blob's length byte).
        let mut body = vec![code::SET_INTSET, 1, b'k', 10];
        body.extend_from_slice(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
        let e = events(&file(&body)).unwrap_err();
        assert_eq!(e.offset, 13, "{e}");
    }

    /// A length-prefixed string as the loader reads it (lengths below 16384).
    fn rdb_string(s: &[u8]) -> Vec<u8> {
        let mut out = if s.len() < 64 { vec![s.len() as u8] } else { vec![0x40 | (s.len() >> 8) as u8, s.len() as u8] };
        out.extend_from_slice(s);
        out
    }

    fn key_file(value_type: u8, value: &[u8]) -> Vec<u8> {
        let mut body = vec![value_type];
        body.extend(rdb_string(b"k"));
        body.extend_from_slice(value);
        file(&body)
    }

    fn list_of(v: &Value) -> Vec<Vec<u8>> {
        v.as_list().unwrap().iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn reads_ziplist_lists_and_quicklists() {
        let k = only_key(&key_file(code::LIST_ZIPLIST, &rdb_string(&ziplist::build(&[b"a", b"1", b"300"]))));
        assert_eq!(list_of(&k.value), vec![b"a".to_vec(), b"1".to_vec(), b"300".to_vec()]);

        let mut v1 = vec![3];
        v1.extend(rdb_string(&ziplist::build(&[b"x", b"7"])));
        v1.extend(rdb_string(&ziplist::build(&[])));
        v1.extend(rdb_string(&ziplist::build(&[b"y"])));
        let k = only_key(&key_file(code::LIST_QUICKLIST, &v1));
        assert_eq!(list_of(&k.value), vec![b"x".to_vec(), b"7".to_vec(), b"y".to_vec()]);

        let mut lp = listpack::Builder::new();
        lp.push(b"packed");
        lp.push(b"-5");
        let mut v2 = vec![2, code::CONTAINER_PLAIN as u8];
        v2.extend(rdb_string(b"plain element"));
        v2.push(code::CONTAINER_PACKED as u8);
        v2.extend(rdb_string(&lp.finish()));
        let k = only_key(&key_file(code::LIST_QUICKLIST_2, &v2));
        assert_eq!(list_of(&k.value), vec![b"plain element".to_vec(), b"packed".to_vec(), b"-5".to_vec()]);

        let e = events(&key_file(code::LIST_QUICKLIST_2, &[1, 3, 0])).unwrap_err();
        assert!(e.message.contains("container 3") && e.offset == 13, "{e}");
        // Only empty nodes: an empty list, skipped.
        let mut empty = vec![1];
        empty.extend(rdb_string(&ziplist::build(&[])));
        assert!(events(&key_file(code::LIST_QUICKLIST, &empty)).unwrap().is_empty());
    }

    #[test]
    fn reads_ziplist_and_zipmap_hashes() {
        let zl = ziplist::build(&[b"f1", b"v1", b"n", b"12"]);
        let k = only_key(&key_file(code::HASH_ZIPLIST, &rdb_string(&zl)));
        let h = k.value.as_hash().unwrap();
        assert_eq!((h.encoding(), h.get(b"f1"), h.get(b"n")), ("listpack", Some(&b"v1"[..]), Some(&b"12"[..])));

        let mut zm = vec![2];
        zm.extend_from_slice(&[3, b'f', b'o', b'o', 3, 0, b'b', b'a', b'r']);
        zm.extend_from_slice(&[1, b'x', 70]);
        zm.push(0);
        zm.extend(std::iter::repeat_n(b'v', 70));
        zm.push(0xFF);
        let k = only_key(&key_file(code::HASH_ZIPMAP, &rdb_string(&zm)));
        let h = k.value.as_hash().unwrap();
        // A 70-byte value is longer than hash-max-listpack-value: converted on load.
        assert_eq!(
            (h.encoding(), h.get(b"foo"), h.get(b"x").map(<[u8]>::len)),
            ("hashtable", Some(&b"bar"[..]), Some(70))
        );

        let dup = ziplist::build(&[b"f", b"1", b"f", b"2"]);
        assert!(events(&key_file(code::HASH_ZIPLIST, &rdb_string(&dup))).unwrap_err().message.contains("duplicate"));
        let odd = ziplist::build(&[b"f", b"1", b"g"]);
        assert!(events(&key_file(code::HASH_ZIPLIST, &rdb_string(&odd))).unwrap_err().message.contains("odd"));
    }

    #[test]
    fn loaded_listpacks_convert_only_when_they_hold_too_many_entries() {
        let long = vec![b'l'; 100];
        let mut lp = listpack::Builder::new();
        lp.push(b"f");
        lp.push(&long);
        let k = only_key(&key_file(code::HASH_LISTPACK, &rdb_string(&lp.finish())));
        assert_eq!(k.value.encoding(), "listpack");
        let mut lp = listpack::Builder::new();
        lp.push(&long);
        lp.push(b"1");
        let k = only_key(&key_file(code::ZSET_LISTPACK, &rdb_string(&lp.finish())));
        assert_eq!(k.value.encoding(), "listpack");
        // Read element by element, the same contents go through the size checks.
        let mut hash = vec![1];
        hash.extend(rdb_string(b"f"));
        hash.extend(rdb_string(&long));
        assert_eq!(only_key(&key_file(code::HASH, &hash)).value.encoding(), "hashtable");
        let mut zset = vec![1];
        zset.extend(rdb_string(&long));
        zset.extend_from_slice(&1.0f64.to_le_bytes());
        assert_eq!(only_key(&key_file(code::ZSET_2, &zset)).value.encoding(), "skiplist");
        let too_many: Vec<Vec<u8>> = (0..258).map(|i| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = too_many.iter().map(Vec::as_slice).collect();
        let zl = ziplist::build(&refs);
        assert_eq!(only_key(&key_file(code::ZSET_ZIPLIST, &rdb_string(&zl))).value.encoding(), "skiplist");
    }

    #[test]
    fn reads_ziplist_and_listpack_zsets() {
        let zl = ziplist::build(&[b"a", b"1.5", b"b", b"3", b"c", b"-inf"]);
        let k = only_key(&key_file(code::ZSET_ZIPLIST, &rdb_string(&zl)));
        let z = k.value.as_zset().unwrap();
        assert_eq!(
            (z.encoding(), z.score(b"a"), z.score(b"b"), z.score(b"c")),
            ("listpack", Some(1.5), Some(3.0), Some(f64::NEG_INFINITY))
        );
        let bad = ziplist::build(&[b"a", b"one"]);
        assert!(events(&key_file(code::ZSET_ZIPLIST, &rdb_string(&bad)))
            .unwrap_err()
            .message
            .contains("invalid score"));
        let mut lp = listpack::Builder::new();
        lp.push(b"m");
        lp.push(b"2.5");
        let k = only_key(&key_file(code::ZSET_LISTPACK, &rdb_string(&lp.finish())));
        assert_eq!(k.value.as_zset().unwrap().score(b"m"), Some(2.5));
    }

    #[test]
    fn corrupt_blob_inside_a_key_reports_its_file_offset() {
        let mut zl = ziplist::build(&[b"a", b"b"]);
        zl[11] = 0x85; // invalid encoding of the first entry, at byte 11 of the ziplist
                       // File: 9 header bytes, type, key (2 bytes), the blob's length byte, then the blob.
        let e = events(&key_file(code::LIST_ZIPLIST, &rdb_string(&zl))).unwrap_err();
        assert_eq!(e.offset, 9 + 1 + 2 + 1 + 11, "{e}");
    }
}
