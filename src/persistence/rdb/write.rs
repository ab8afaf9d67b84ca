//! Writes RDB version 10 the way Redis 7.0.15's rdb.c writes each encoding we have.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{code, intset, CRC64, RDB_VERSION};
use crate::keyspace::Value;
use crate::types::listpack;
use crate::types::set::MemberRef;
use crate::types::stream::Stream;
use crate::types::{Hash, List, Set, ZSet};

/// rdbcompression and rdbchecksum.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub compression: bool,
    pub checksum: bool,
}

/// list-max-listpack-size's default: nodes of up to 8 KiB.
pub const DEFAULT_LIST_FILL: i64 = -2;

/// Streams an RDB file: `new` writes the header, then `aux`, `function`, `select_db` and `key` in
/// the order Redis uses (aux fields, the function libraries, then per database SELECTDB/RESIZEDB
/// and its keys), then `finish`.
pub struct Writer<W: Write> {
    out: W,
    opts: WriteOptions,
    /// list-max-listpack-size: how full Redis fills a list's quicklist nodes.
    list_fill: i64,
    digest: crc::Digest<'static, u64>,
}

/// A quicklist node with list-max-listpack-size -2 holds at most this many listpack bytes.
const LIST_NODE_MAX_BYTES: usize = 8192;
/// What _quicklistNodeAllowInsert adds to an element's length for its listpack entry's header.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Strings this long or shorter are never compressed (rdbSaveRawString).
const COMPRESS_MIN_LEN: usize = 20;
/// LZF must save at least this many bytes for the compressed form to be used.
const COMPRESS_MIN_SAVING: usize = 4;

/// Counts what is written to it.
struct ByteCount(usize);

impl Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// rdbSavedObjectLen: the bytes `value` takes in an RDB file, without its type byte and key (DEBUG
/// OBJECT's serializedlength).
pub fn serialized_len(value: &Value, compression: bool, list_fill: i64) -> usize {
    let opts = WriteOptions { compression, checksum: false };
    let mut w = Writer { out: ByteCount(0), opts, list_fill, digest: CRC64.digest() };
    match w.value(value) {
        Ok(()) => w.out.0,
        Err(_) => 0,
    }
}

impl<W: Write> Writer<W> {
    /// Starts a file with the "REDIS0010" header.
    pub fn new(out: W, opts: WriteOptions) -> io::Result<Self> {
        let mut w = Writer::headless(out, opts);
        w.put(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        Ok(w)
    }

    /// Lists are split into quicklist nodes as list-max-listpack-size `fill` splits them.
    pub fn with_list_fill(mut self, fill: i64) -> Self {
        self.list_fill = fill;
        self
    }

    /// Records without a file around them (a DUMP payload's body).
    pub(super) fn headless(out: W, opts: WriteOptions) -> Self {
        Writer { out, opts, list_fill: DEFAULT_LIST_FILL, digest: CRC64.digest() }
    }

    /// The output so far, without an EOF or checksum.
    pub(super) fn into_inner(self) -> W {
        self.out
    }

    /// An auxiliary field (redis-ver, ctime, ...); values that are integers are written as
    /// integers, as rdbSaveAuxFieldStrInt does.
    pub fn aux(&mut self, key: &str, value: &[u8]) -> io::Result<()> {
        self.put(&[code::AUX])?;
        self.string(key.as_bytes())?;
        self.string(value)
    }

    /// A function library (rdbSaveFunctions): the FUNCTION2 opcode and the library's code, as
    /// any string (LZF-compressed when rdbcompression is on and that saves bytes).
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.put(&[code::FUNCTION2])?;
        self.string(code)
    }

    /// SELECTDB followed by RESIZEDB with the database's key and volatile key counts.
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        self.put(&[code::SELECTDB])?;
        self.length(db as u64)?;
        self.put(&[code::RESIZEDB])?;
        self.length(keys)?;
        self.length(expires)
    }

    /// One key with its value and absolute expire time in milliseconds.
    pub fn key(&mut self, key: &[u8], value: &Value, expire_at_ms: Option<u64>) -> io::Result<()> {
        if let Some(at) = expire_at_ms {
            self.put(&[code::EXPIRETIME_MS])?;
            self.put(&at.to_le_bytes())?;
        }
        self.put(&[value_type(value)])?;
        self.string(key)?;
        self.value(value)
    }

    /// A value without a key (rdbSaveObjectType and rdbSaveObject): a DUMP payload's body.
    pub(super) fn object(&mut self, value: &Value) -> io::Result<()> {
        self.put(&[value_type(value)])?;
        self.value(value)
    }

    /// rdbSaveObject: the value in the encoding `value_type` names.
    fn value(&mut self, value: &Value) -> io::Result<()> {
        match value {
            Value::Int(n) => self.int_string(*n),
            Value::Small(_) | Value::Str { .. } => self.string(&value.as_bytes().unwrap_or_default()),
            Value::List(l) => self.list(l),
            Value::Hash(h) => self.hash(h),
            Value::Set(s) => self.set(s),
            Value::ZSet(z) => self.zset(z),
            Value::Stream(st) => self.stream(st),
        }
    }

    /// The EOF opcode and the checksum (zero when checksums are off); returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[code::EOF])?;
        let crc = if self.opts.checksum { self.digest.clone().finalize() } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.opts.checksum {
            self.digest.update(bytes);
        }
        self.out.write_all(bytes)
    }

    /// rdbSaveLen.
    fn length(&mut self, len: u64) -> io::Result<()> {
        if len < 1 << 6 {
            self.put(&[len as u8])
        } else if len < 1 << 14 {
            self.put(&[(code::LEN_14BIT << 6) | (len >> 8) as u8, len as u8])
        } else if let Ok(l32) = u32::try_from(len) {
            self.put(&[code::LEN_32BIT])?;
            self.put(&l32.to_be_bytes())
        } else {
            self.put(&[code::LEN_64BIT])?;
            self.put(&len.to_be_bytes())
        }
    }

    /// rdbSaveRawString: a canonical integer that fits 32 bits as an integer, a long string
    /// LZF-compressed when that saves bytes, anything else length-prefixed.
    fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(encoded) = listpack::canonical_int(s).and_then(encode_small_int) {
                return self.put(&encoded);
            }
        }
        // rdbSaveLzfStringObject: the compressed form must fit in 4 bytes less than the string.
        if self.opts.compression && s.len() > COMPRESS_MIN_LEN {
            if let Some(packed) = crate::util::lzf::compress(s, s.len() - COMPRESS_MIN_SAVING) {
                self.put(&[(code::LEN_ENCVAL << 6) | code::ENC_LZF])?;
                self.length(packed.len() as u64)?;
                self.length(s.len() as u64)?;
                return self.put(&packed);
            }
        }
        self.length(s.len() as u64)?;
        self.put(s)
    }

    /// rdbSaveLongLongAsStringObject: an int-encoded string value.
    fn int_string(&mut self, n: i64) -> io::Result<()> {
        match encode_small_int(n) {
            Some(encoded) => self.put(&encoded),
            None => {
                let digits = n.to_string();
                self.length(digits.len() as u64)?;
                self.put(digits.as_bytes())
            }
        }
    }

    /// A quicklist of listpack nodes, each node filled as list-max-listpack-size -2 fills it.
    /// Nodes are built one at a time, so a large list is not copied whole.
    fn list(&mut self, list: &List) -> io::Result<()> {
        let nodes = quicklist_nodes(list, self.list_fill);
        self.length(nodes.len() as u64)?;
        let mut elements = list.iter();
        for node in nodes {
            match node {
                Node::Packed(count) => {
                    let mut lp = listpack::Builder::new();
                    for element in elements.by_ref().take(count) {
                        lp.push(element);
                    }
                    self.length(code::CONTAINER_PACKED)?;
                    self.string(&lp.finish())?;
                }
                Node::Plain => {
                    self.length(code::CONTAINER_PLAIN)?;
                    self.string(elements.next().unwrap_or_default())?;
                }
            }
        }
        Ok(())
    }

    fn hash(&mut self, h: &Hash) -> io::Result<()> {
        if h.is_listpack() {
            let mut lp = listpack::Builder::new();
            for (field, value) in h.iter() {
                lp.push(field);
                lp.push(value);
            }
            return self.string(&lp.finish());
        }
        self.length(h.len() as u64)?;
        for (field, value) in h.iter() {
            self.string(field)?;
            self.string(value)?;
        }
        Ok(())
    }

    fn set(&mut self, s: &Set) -> io::Result<()> {
        if s.is_intset() {
            let ints: Vec<i64> =
                s.iter()
                    .map(|m| match m {
                        MemberRef::Int(n) => Ok(n),
                        MemberRef::Bytes(b) => listpack::canonical_int(b)
                            .ok_or_else(|| io::Error::other("intset member is not an integer")),
                    })
                    .collect::<io::Result<_>>()?;
            return self.string(&intset::encode(&ints));
        }
        self.length(s.len() as u64)?;
        for m in s.iter() {
            m.with_bytes(|b| self.string(b))?;
        }
        Ok(())
    }

    /// STREAM_LISTPACKS_2 as Redis 7.0's rdbSaveObject writes it: the nodes' bytes as they are,
    /// the counters, then each group with its PEL (ID, delivery time, count) and its consumers
    /// (name, seen time, the IDs they own).
    fn stream(&mut self, s: &Stream) -> io::Result<()> {
        self.length(s.node_count() as u64)?;
        for (master_id, lp) in s.nodes() {
            self.string(&master_id.to_be_bytes())?;
            self.string(lp)?;
        }
        self.length(s.len())?;
        for id in [s.last_id(), s.first_id(), s.max_deleted_entry_id()] {
            self.length(id.ms)?;
            self.length(id.seq)?;
        }
        self.length(s.entries_added())?;
        self.length(s.groups().len() as u64)?;
        for (name, g) in s.groups() {
            self.string(name)?;
            self.length(g.last_id.ms)?;
            self.length(g.last_id.seq)?;
            // SCG_INVALID_ENTRIES_READ (-1) goes out as the 64-bit length it casts to.
            self.length(g.entries_read.unwrap_or(u64::MAX))?;
            self.length(g.pel.len() as u64)?;
            for (id, nack) in &g.pel {
                self.put(&id.to_be_bytes())?;
                self.put(&nack.delivery_time.to_le_bytes())?;
                self.length(nack.delivery_count)?;
            }
            self.length(g.consumers.len() as u64)?;
            for (cname, c) in &g.consumers {
                self.string(cname)?;
                self.put(&c.seen_time.to_le_bytes())?;
                self.length(c.pel.len() as u64)?;
                for id in &c.pel {
                    self.put(&id.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn zset(&mut self, z: &ZSet) -> io::Result<()> {
        if z.is_listpack() {
            let mut lp = listpack::Builder::new();
            for (member, score) in z.iter() {
                lp.push(member);
                push_score(&mut lp, score);
            }
            return self.string(&lp.finish());
        }
        self.length(z.len() as u64)?;
        // Redis writes a skiplist from its tail so that loading inserts each at the head.
        for (member, score) in z.iter_at(z.len().saturating_sub(1), true) {
            self.string(member)?;
            self.put(&score.to_le_bytes())?;
        }
        Ok(())
    }
}

/// rdbSaveObjectType: the type byte of the value's encoding.
fn value_type(value: &Value) -> u8 {
    match value {
        Value::Int(_) | Value::Small(_) | Value::Str { .. } => code::STRING,
        Value::List(_) => code::LIST_QUICKLIST_2,
        Value::Hash(h) if h.is_listpack() => code::HASH_LISTPACK,
        Value::Hash(_) => code::HASH,
        Value::Set(s) if s.is_intset() => code::SET_INTSET,
        Value::Set(_) => code::SET,
        Value::ZSet(z) if z.is_listpack() => code::ZSET_LISTPACK,
        Value::ZSet(_) => code::ZSET_2,
        Value::Stream(_) => code::STREAM_LISTPACKS_2,
    }
}

/// rdbEncodeInteger: a value in 32 bits as an 8, 16 or 32-bit special encoding.
fn encode_small_int(n: i64) -> Option<Vec<u8>> {
    let head = |enc: u8| (code::LEN_ENCVAL << 6) | enc;
    if let Ok(v) = i8::try_from(n) {
        Some(vec![head(code::ENC_INT8), v as u8])
    } else if let Ok(v) = i16::try_from(n) {
        let b = v.to_le_bytes();
        Some(vec![head(code::ENC_INT16), b[0], b[1]])
    } else if let Ok(v) = i32::try_from(n) {
        let mut out = vec![head(code::ENC_INT32)];
        out.extend_from_slice(&v.to_le_bytes());
        Some(out)
    } else {
        None
    }
}

/// A zset listpack stores a score as an integer when it is one (double2ll), else as d2string text.
fn push_score(lp: &mut listpack::Builder, score: f64) {
    let bound = (i64::MAX / 2) as f64;
    if (-bound..=bound).contains(&score) && score == (score as i64) as f64 {
        lp.push_int(score as i64);
    } else {
        lp.push(crate::util::numbers::d2string(score).as_bytes());
    }
}

/// Splits a list into listpack nodes as _quicklistNodeAllowInsert does for fill -2: an element
/// joins the current node while the node's estimated size stays within 8 KiB.
/// Returns the number of elements of each node.
fn quicklist_nodes(list: &List, fill: i64) -> Vec<Node> {
    // quicklistSetFill's bounds.
    let fill = fill.clamp(-5, (1 << 15) - 1);
    let threshold = PACKED_THRESHOLD.load(Ordering::Relaxed);
    let mut nodes = Vec::new();
    let (mut count, mut bytes) = (0, listpack::EMPTY_SIZE);
    for element in list.iter() {
        let large = element.len() as u64 >= threshold;
        if count > 0 && (large || !node_allows(bytes, count, element.len(), fill)) {
            nodes.push(Node::Packed(count));
            (count, bytes) = (0, listpack::EMPTY_SIZE);
        }
        if large {
            nodes.push(Node::Plain);
            continue;
        }
        count += 1;
        bytes += listpack::entry_size(element);
    }
    if count > 0 {
        nodes.push(Node::Packed(count));
    }
    nodes
}

/// How many quicklist nodes Redis holds `list` in at `fill`.
pub fn quicklist_node_count(list: &List, fill: i64) -> usize {
    quicklist_nodes(list, fill).len()
}

/// The quicklist Redis would hold for `list`: its node count and the bytes of its nodes (DEBUG
/// OBJECT's ql_nodes and ql_uncompressed_size).
pub fn quicklist_shape(list: &List, fill: i64) -> (usize, usize) {
    let nodes = quicklist_nodes(list, fill);
    let mut elements = list.iter();
    let mut bytes = 0;
    for node in &nodes {
        match node {
            Node::Packed(count) => {
                bytes += listpack::EMPTY_SIZE + elements.by_ref().take(*count).map(listpack::entry_size).sum::<usize>();
            }
            Node::Plain => bytes += elements.next().map_or(0, <[u8]>::len),
        }
    }
    (nodes.len(), bytes)
}

/// A quicklist node as Redis would hold the list: a listpack of this many elements, or one
/// element at least the packed threshold long on its own.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Node {
    Packed(usize),
    Plain,
}

/// Redis's packed_threshold: an element this long gets a PLAIN node of its own (1 GiB unless
/// DEBUG QUICKLIST-PACKED-THRESHOLD changed it). Process-wide, as in Redis.
static PACKED_THRESHOLD: AtomicU64 = AtomicU64::new(DEFAULT_PACKED_THRESHOLD);
const DEFAULT_PACKED_THRESHOLD: u64 = 1 << 30;

/// quicklistisSetPackedThreshold: 0 restores the default; more than 4 GiB less 1 MiB is refused.
pub fn set_packed_threshold(size: u64) -> bool {
    if size > (1 << 32) - (1 << 20) {
        return false;
    }
    let size = if size == 0 { DEFAULT_PACKED_THRESHOLD } else { size };
    PACKED_THRESHOLD.store(size, Ordering::Relaxed);
    true
}

/// _quicklistNodeAllowInsert: with a negative fill the node's bytes, the element's and an
/// estimated overhead of 8 stay within the fill's size class (4 to 64 KiB); with a positive one
/// the node holds fewer than `fill` elements and stays within 8 KiB.
fn node_allows(node_bytes: usize, count: usize, element_len: usize, fill: i64) -> bool {
    let new_size = node_bytes + element_len + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 && new_size <= OPTIMIZATION_LEVEL[(-fill - 1) as usize] {
        return true;
    }
    new_size <= LIST_NODE_MAX_BYTES && (count as i64) < fill
}

/// The node sizes of list-max-listpack-size -1 to -5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>, compression: bool) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression, checksum: false }).unwrap();
        f(&mut w).unwrap();
        let out = w.finish().unwrap();
        out[9..out.len() - 9].to_vec()
    }

    #[test]
    fn lengths_use_the_shortest_encoding() {
        let cases: Vec<(u64, Vec<u8>)> = vec![
            (0, vec![0]),
            (63, vec![63]),
            (64, vec![0x40, 64]),
            (16383, vec![0x7F, 0xFF]),
            (16384, vec![0x80, 0, 0, 0x40, 0]),
            (u32::MAX as u64, vec![0x80, 0xFF, 0xFF, 0xFF, 0xFF]),
            (1 << 32, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (len, want) in cases {
            assert_eq!(written(|w| w.length(len), false), want, "{len}");
        }
    }

    #[test]
    fn integer_strings_are_encoded_as_integers() {
        assert_eq!(written(|w| w.string(b"-5"), false), vec![0xC0, 0xFB]);
        assert_eq!(written(|w| w.string(b"300"), false), vec![0xC1, 0x2C, 0x01]);
        assert_eq!(written(|w| w.string(b"100000"), false), vec![0xC2, 0xA0, 0x86, 0x01, 0x00]);
        // Not canonical, or too wide for 32 bits: plain strings.
        assert_eq!(written(|w| w.string(b"007"), false), vec![3, b'0', b'0', b'7']);
        assert_eq!(written(|w| w.string(b"4294967296"), false)[0], 10);
        assert_eq!(written(|w| w.int_string(4294967296), false)[0], 10);
        assert_eq!(written(|w| w.int_string(7), false), vec![0xC0, 7]);
    }

    #[test]
    fn long_repetitive_strings_are_compressed_only_when_allowed() {
        let s = vec![b'a'; 100];
        let packed = written(|w| w.string(&s), true);
        assert_eq!(packed[0], 0xC3);
        assert!(packed.len() < 20);
        assert_eq!(written(|w| w.string(&s), false)[..2], [0x40, 100]);
        // 20 bytes is too short to be considered.
        assert_eq!(written(|w| w.string(&[b'a'; 20]), true)[0], 20);
    }

    #[test]
    fn functions_are_written_as_rdb_save_functions_does() {
        let code = b"#!lua name=x\nredis.register_function('f', g)";
        let mut want = vec![code::FUNCTION2, code.len() as u8];
        want.extend_from_slice(code);
        assert_eq!(written(|w| w.function(code), false), want);
        let long = [b"redis.call('ping') ".as_slice(); 30].concat();
        let packed = written(|w| w.function(&long), true);
        assert_eq!(packed[..2], [code::FUNCTION2, 0xC3]);
        assert!(packed.len() < long.len() / 4);
    }

    #[test]
    fn checksum_covers_the_whole_file() {
        let mut w = Writer::new(Vec::new(), WriteOptions { compression: false, checksum: true }).unwrap();
        w.aux("redis-ver", b"7.0.15").unwrap();
        let out = w.finish().unwrap();
        let body = &out[..out.len() - 8];
        assert_eq!(&out[out.len() - 8..], &CRC64.checksum(body).to_le_bytes());
    }

    /// The listpack of each node, as `Writer::list` builds them.
    fn node_listpacks(list: &List) -> Vec<Vec<u8>> {
        let mut elements = list.iter();
        let build = |n: usize, it: &mut dyn Iterator<Item = &[u8]>| {
            let mut node = listpack::Builder::new();
            it.take(n).for_each(|e| node.push(e));
            node.finish()
        };
        let counts = super::quicklist_nodes(list, DEFAULT_LIST_FILL).into_iter().map(|n| match n {
            Node::Packed(count) => count,
            Node::Plain => panic!("no element reaches the default packed threshold here"),
        });
        counts.map(|n| build(n, &mut elements)).collect()
    }

    #[test]
    fn list_nodes_stay_within_8_kib() {
        let big: List = (0..3000).map(|i| format!("element-{i}")).collect();
        let nodes = node_listpacks(&big);
        assert!(nodes.len() > 1);
        assert!(nodes.iter().all(|n| n.len() <= LIST_NODE_MAX_BYTES));
        let total: usize = nodes.iter().map(|n| listpack::decode(n).unwrap().len()).sum();
        assert_eq!(total, 3000);
        let huge: List = [vec![b'x'; 10000], vec![b'y'; 3]].into_iter().collect();
        assert_eq!(node_listpacks(&huge).len(), 2);
        // The written list loads back whole, in order.
        let mut file = b"REDIS0010".to_vec();
        file.extend_from_slice(&[code::LIST_QUICKLIST_2, 1, b'k']);
        file.extend(written(|w| w.list(&big), true));
        file.push(code::EOF);
        file.extend_from_slice(&[0; 8]);
        let mut loaded = None;
        super::super::load(&file[..], &Default::default(), |e| {
            loaded = Some(e);
            Ok(())
        })
        .unwrap();
        match loaded {
            Some(super::super::Event::Key(k)) => assert!(k.value.as_list().unwrap().iter().eq(big.iter())),
            other => panic!("{other:?}"),
        }
    }
}
