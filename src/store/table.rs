//! Immutable sorted tables: where the store keeps records once they have cooled (see
//! `compaction.rs`). A table is one file of records in key order, cut into blocks of about
//! 32 KB that are each deflated (zlib, so a damaged block fails its checksum instead of reading
//! as other records), then an index of the blocks' first keys, then a fixed footer. Records of
//! one kind sit side by side, so a block deflates 3-5 times where a single record barely
//! shrinks; and unlike sled's log nothing in a table is ever overwritten, so it holds no dead
//! versions. A table is written once, synced, and only then named in the manifest.
//!
//! Tables written under load keep their blocks raw (`Packing::Raw`): deflating them took a
//! tenth of the server's CPU, and those tables are merged again soon. A raw block starts with
//! a zero byte (a zlib stream never does) and a CRC-32 of the records. The idle compaction
//! rewrites raw tables deflated.
//!
//! A Bloom filter of the keys follows the index: most reads of a key a table lacks (a new id
//! checked before it is written, a key that lives in a newer layer) then cost no block read.
//!
//! Entry layout in a block: key length (u32 LE), key, kind (1 put, 0 tombstone), value length
//! (u32 LE), value. Index: per block, first-key length (u32), first key, offset (u64), length
//! (u32). Footer: index offset (u64), index length (u32), filter length (u32), entry count
//! (u64), magic.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use siphasher::sip::SipHasher13;

use super::deflate::{deflate_into, Framing};
use super::{StoreError, StoreResult};

const MAGIC: &[u8; 8] = b"CPLTBL02";
const FOOTER: usize = 8 + 4 + 4 + 8 + 8;
/// The filter's false-positive rate: about 10 bits a key.
const FALSE_POSITIVES: f64 = 0.01;

type Filter = bloomfilter::Bloom<u64>;

/// A key's hash for the filter: SipHash with fixed keys, so it is the same in every process.
fn key_hash(key: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = SipHasher13::new();
    h.write(key);
    h.finish()
}
/// Raw bytes per block before deflating: large enough that records of a kind compress
/// together, small enough that a point read inflates little.
const BLOCK: usize = 32 * 1024;
/// Bytes of a table written between hand-overs to the disk.
const WRITE_BACK_EVERY: u64 = 4 * 1024 * 1024;
/// Inflated blocks kept per table for repeated reads (the newest executions, a page of a list).
const CACHED_BLOCKS: usize = 8;
/// No block or index is this large; a length beyond it means a damaged file.
const LARGEST: usize = 256 * 1024 * 1024;
/// The first byte of a raw block.
const RAW: u8 = 0;

/// How a table's blocks are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Deflated: what a table holds for long.
    Deflated,
    /// As they are, behind a checksum: for tables written under load, merged again soon.
    Raw,
}

/// A record in a layer: a value, or the mark that a deeper layer's value was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Put(Vec<u8>),
    Tombstone,
}

fn damaged(path: &Path, what: &str) -> StoreError {
    StoreError(format!("table {} is damaged: {what}", path.display()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError(format!("table {}: {e}", path.display()))
}

/// Writes a table from entries given in strictly increasing key order.
pub struct TableWriter {
    path: PathBuf,
    packing: Packing,
    out: BufWriter<File>,
    offset: u64,
    /// How far the file has been handed to the disk (`sync_file_range`).
    written_back: u64,
    block: Vec<u8>,
    block_first: Option<Vec<u8>>,
    index: Vec<u8>,
    hashes: Vec<u64>,
    entries: u64,
}

impl TableWriter {
    pub fn create(path: &Path, packing: Packing) -> StoreResult<Self> {
        let file = File::create(path).map_err(io(path))?;
        Ok(TableWriter {
            path: path.to_path_buf(),
            packing,
            out: BufWriter::with_capacity(256 * 1024, file),
            offset: 0,
            written_back: 0,
            block: Vec::with_capacity(BLOCK + 4096),
            block_first: None,
            index: Vec::new(),
            hashes: Vec::new(),
            entries: 0,
        })
    }

    pub fn add(&mut self, key: &[u8], entry: &Entry) -> StoreResult<()> {
        if self.block_first.is_none() {
            self.block_first = Some(key.to_vec());
        }
        self.hashes.push(key_hash(key));
        put_bytes(&mut self.block, key);
        match entry {
            Entry::Put(value) => {
                self.block.push(1);
                put_bytes(&mut self.block, value);
            }
            Entry::Tombstone => self.block.push(0),
        }
        self.entries += 1;
        if self.block.len() >= BLOCK {
            self.finish_block()?;
        }
        Ok(())
    }

    fn finish_block(&mut self) -> StoreResult<()> {
        let Some(first) = self.block_first.take() else {
            return Ok(());
        };
        let len = match self.packing {
            Packing::Deflated => {
                let packed = deflate(&self.block).map_err(io(&self.path))?;
                self.out.write_all(&packed).map_err(io(&self.path))?;
                packed.len()
            }
            Packing::Raw => {
                let mut head = [RAW; 5];
                head[1..].copy_from_slice(&crc32fast::hash(&self.block).to_le_bytes());
                self.out.write_all(&head).map_err(io(&self.path))?;
                self.out.write_all(&self.block).map_err(io(&self.path))?;
                head.len() + self.block.len()
            }
        };
        put_bytes(&mut self.index, &first);
        self.index.extend_from_slice(&self.offset.to_le_bytes());
        self.index.extend_from_slice(&(len as u32).to_le_bytes());
        self.offset += len as u64;
        self.block.clear();
        if self.offset - self.written_back >= WRITE_BACK_EVERY {
            self.write_back()?;
        }
        Ok(())
    }

    /// Starts writing what the table has so far to disk, without waiting. With 24 GB of page
    /// cache the kernel otherwise holds a merge's hundreds of megabytes until the final sync,
    /// and the store's group commits then wait behind all of it at once (fsyncs of 100-160 ms
    /// under the soak).
    fn write_back(&mut self) -> StoreResult<()> {
        self.out.flush().map_err(io(&self.path))?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd as _;
            let (from, len) = (self.written_back, self.offset - self.written_back);
            // SAFETY: no pointers; the descriptor is the open file this writer owns. Failure
            // only means the final sync does the work, so it is ignored.
            unsafe {
                libc::sync_file_range(
                    self.out.get_ref().as_raw_fd(),
                    from as libc::off64_t,
                    len as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.written_back = self.offset;
        Ok(())
    }

    /// Writes the index and footer and syncs the file. Returns its entry count.
    pub fn finish(mut self) -> StoreResult<u64> {
        self.finish_block()?;
        let index = deflate(&self.index).map_err(io(&self.path))?;
        self.out.write_all(&index).map_err(io(&self.path))?;
        let mut filter =
            Filter::new_for_fp_rate_with_seed(self.hashes.len().max(1), FALSE_POSITIVES, &[7; 32])
                .map_err(|e| StoreError(format!("table {}: {e}", self.path.display())))?;
        self.hashes.iter().for_each(|h| filter.set(h));
        let filter = filter.into_bytes();
        self.out.write_all(&filter).map_err(io(&self.path))?;
        let mut footer = Vec::with_capacity(FOOTER);
        footer.extend_from_slice(&self.offset.to_le_bytes());
        footer.extend_from_slice(&(index.len() as u32).to_le_bytes());
        footer.extend_from_slice(&(filter.len() as u32).to_le_bytes());
        footer.extend_from_slice(&self.entries.to_le_bytes());
        footer.extend_from_slice(MAGIC);
        self.out.write_all(&footer).map_err(io(&self.path))?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| StoreError(format!("table {}: {e}", self.path.display())))?;
        file.sync_all().map_err(io(&self.path))?;
        Ok(self.entries)
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn deflate(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut packed = Vec::with_capacity(raw.len() / 3);
    deflate_into(raw, Framing::Zlib, &mut packed)?;
    Ok(packed)
}

fn inflate(packed: &[u8]) -> std::io::Result<Vec<u8>> {
    super::deflate::inflate(packed, Framing::Zlib, LARGEST)
}

/// A block's records, from either packing; `None` when a raw block fails its checksum.
fn unpack(mut packed: Vec<u8>) -> Option<Vec<u8>> {
    if packed.first() != Some(&RAW) {
        return inflate(&packed).ok();
    }
    let sum = u32::from_le_bytes(packed.get(1..5)?.try_into().ok()?);
    packed.drain(..5);
    (crc32fast::hash(&packed) == sum).then_some(packed)
}

/// Reads a little-endian length-prefixed slice at `*at`, moving `at` past it.
fn take_bytes<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = u32::from_le_bytes(buf.get(*at..*at + 4)?.try_into().ok()?) as usize;
    let bytes = buf.get(*at + 4..*at + 4 + len)?;
    *at += 4 + len;
    Some(bytes)
}

/// The blocks' first keys and places, kept as the file has them: one buffer and where each
/// block's entry starts. The soak's table of ~220,000 executions has ~35,000 blocks; a key
/// and a 40-byte record apiece took 5.4 MB, in small allocations made among a merge's
/// short-lived ones that kept the allocator's pages resident after it.
struct BlockIndex {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

/// Reads the index entry at `at` (a block's first key, then its offset and length) and moves
/// past it; the block's place.
fn take_place(index: &[u8], at: &mut usize) -> Option<(u64, u32)> {
    take_bytes(index, at)?;
    let fixed = index.get(*at..*at + 12)?;
    *at += 12;
    let offset = u64::from_le_bytes(fixed[..8].try_into().ok()?);
    let len = u32::from_le_bytes(fixed[8..].try_into().ok()?);
    Some((offset, len))
}

impl BlockIndex {
    /// Reads an inflated index, checking every block lies before `end`.
    fn parse(mut bytes: Vec<u8>, end: u64) -> Option<BlockIndex> {
        let mut starts = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            starts.push(u32::try_from(at).ok()?);
            let (offset, len) = take_place(&bytes, &mut at)?;
            if offset.checked_add(u64::from(len))? > end {
                return None;
            }
        }
        bytes.shrink_to_fit();
        starts.shrink_to_fit();
        Some(BlockIndex { bytes, starts })
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// Where block `i` lies in the file: its offset and length.
    fn place(&self, i: usize) -> (u64, u32) {
        let mut at = self.starts[i] as usize;
        // `parse` read this entry whole.
        take_place(&self.bytes, &mut at).unwrap_or_default()
    }
}

/// One inflated block with where each entry begins, for binary search.
struct Block {
    raw: Vec<u8>,
    starts: Vec<usize>,
}

impl Block {
    fn parse(raw: Vec<u8>) -> Option<Block> {
        let mut starts = Vec::new();
        let mut at = 0;
        while at < raw.len() {
            starts.push(at);
            take_bytes(&raw, &mut at)?;
            let kind = *raw.get(at)?;
            at += 1;
            if kind == 1 {
                take_bytes(&raw, &mut at)?;
            }
        }
        Some(Block { raw, starts })
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn key(&self, i: usize) -> &[u8] {
        key_at(&self.raw, self.starts[i])
    }

    fn entry(&self, i: usize) -> (&[u8], Entry) {
        let mut at = self.starts[i];
        let key = take_bytes(&self.raw, &mut at).unwrap_or_default();
        let entry = match self.raw.get(at) {
            Some(1) => {
                at += 1;
                Entry::Put(take_bytes(&self.raw, &mut at).unwrap_or_default().to_vec())
            }
            _ => Entry::Tombstone,
        };
        (key, entry)
    }

    /// The first entry whose key is `>= key`.
    fn seek(&self, key: &[u8]) -> usize {
        self.starts.partition_point(|&s| key_at(&self.raw, s) < key)
    }
}

fn key_at(raw: &[u8], start: usize) -> &[u8] {
    let mut at = start;
    take_bytes(raw, &mut at).unwrap_or_default()
}

/// An open table: its index in memory, its blocks read on demand.
pub struct Table {
    path: PathBuf,
    file: File,
    blocks: BlockIndex,
    filter: Filter,
    entries: u64,
    bytes: u64,
    /// Written with `Packing::Raw`: the first block says, as a table is packed one way.
    raw: bool,
    cache: Mutex<Vec<(usize, Arc<Block>)>>,
}

impl Table {
    pub fn open(path: &Path) -> StoreResult<Table> {
        let file = File::open(path).map_err(io(path))?;
        let size = file.metadata().map_err(io(path))?.len();
        if size < FOOTER as u64 {
            return Err(damaged(path, "shorter than its footer"));
        }
        let mut footer = [0u8; FOOTER];
        file.read_exact_at(&mut footer, size - FOOTER as u64)
            .map_err(io(path))?;
        if &footer[24..32] != MAGIC {
            return Err(damaged(path, "no table footer"));
        }
        let word = |r: std::ops::Range<usize>| -> u64 {
            footer[r]
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        };
        let (index_at, index_len, filter_len) = (word(0..8), word(8..12), word(12..16));
        let entries = word(16..24);
        if index_len.max(filter_len) > LARGEST as u64
            || index_at.checked_add(index_len + filter_len + FOOTER as u64) != Some(size)
        {
            return Err(damaged(path, "index out of place"));
        }
        let index_len = index_len as usize;
        let mut filter = vec![0u8; filter_len as usize];
        file.read_exact_at(&mut filter, index_at + index_len as u64)
            .map_err(io(path))?;
        let filter = Filter::from_bytes(filter).map_err(|e| damaged(path, e))?;
        let mut packed = vec![0u8; index_len];
        file.read_exact_at(&mut packed, index_at)
            .map_err(io(path))?;
        let index = inflate(&packed).map_err(|_| damaged(path, "index does not inflate"))?;
        let blocks = BlockIndex::parse(index, index_at)
            .ok_or_else(|| damaged(path, "index damaged or a block out of place"))?;
        let mut first_byte = [0u8; 1];
        let raw = match (blocks.len() > 0).then(|| blocks.place(0)) {
            Some((offset, len)) if len > 0 => {
                file.read_exact_at(&mut first_byte, offset)
                    .map_err(io(path))?;
                first_byte[0] == RAW
            }
            _ => false,
        };
        Ok(Table {
            path: path.to_path_buf(),
            file,
            blocks,
            filter,
            entries,
            bytes: size,
            raw,
            cache: Mutex::new(Vec::new()),
        })
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The file's size.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether its blocks are raw, to be deflated when the store is idle.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    fn block(&self, i: usize) -> StoreResult<Arc<Block>> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((_, b)) = cache.iter().find(|(n, _)| *n == i) {
                return Ok(b.clone());
            }
        }
        let (offset, len) = self.blocks.place(i);
        let mut packed = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut packed, offset)
            .map_err(io(&self.path))?;
        let raw = unpack(packed).ok_or_else(|| damaged(&self.path, "block does not unpack"))?;
        let block = Arc::new(Block::parse(raw).ok_or_else(|| damaged(&self.path, "block"))?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHED_BLOCKS {
                cache.remove(0);
            }
            cache.push((i, block.clone()));
        }
        Ok(block)
    }

    /// The block that would hold `key`: the last whose first key is `<= key`.
    fn block_for(&self, key: &[u8]) -> Option<usize> {
        self.blocks
            .starts
            .partition_point(|&at| key_at(&self.blocks.bytes, at as usize) <= key)
            .checked_sub(1)
    }

    pub fn get(&self, key: &[u8]) -> StoreResult<Option<Entry>> {
        if !self.filter.check(&key_hash(key)) {
            return Ok(None);
        }
        let Some(i) = self.block_for(key) else {
            return Ok(None);
        };
        let block = self.block(i)?;
        let at = block.seek(key);
        if at < block.len() && block.key(at) == key {
            return Ok(Some(block.entry(at).1));
        }
        Ok(None)
    }

    /// Entries with keys `>= from`, in order.
    pub fn iter_from(self: &Arc<Self>, from: &[u8]) -> TableIter {
        let block = self.block_for(from).unwrap_or(0);
        TableIter {
            table: self.clone(),
            block,
            current: None,
            at: 0,
            from: Some(from.to_vec()),
        }
    }
}

/// Walks a table's entries in key order, a block at a time.
pub struct TableIter {
    table: Arc<Table>,
    block: usize,
    current: Option<Arc<Block>>,
    at: usize,
    from: Option<Vec<u8>>,
}

impl Iterator for TableIter {
    type Item = StoreResult<(Vec<u8>, Entry)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(block) = &self.current {
                if self.at < block.len() {
                    let (k, e) = block.entry(self.at);
                    self.at += 1;
                    return Some(Ok((k.to_vec(), e)));
                }
                self.current = None;
                self.block += 1;
            }
            if self.block >= self.table.blocks.len() {
                return None;
            }
            match self.table.block(self.block) {
                Ok(b) => {
                    self.at = self.from.take().map_or(0, |from| b.seek(&from));
                    self.current = Some(b);
                }
                Err(e) => {
                    self.block = self.table.blocks.len();
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(dir: &Path, n: usize) -> Arc<Table> {
        written_as(dir, n, Packing::Deflated)
    }

    fn written_as(dir: &Path, n: usize, packing: Packing) -> Arc<Table> {
        let path = dir.join("t.tbl");
        let mut w = TableWriter::create(&path, packing).unwrap();
        for i in 0..n {
            let key = format!("k/{i:06}");
            if i % 10 == 3 {
                w.add(key.as_bytes(), &Entry::Tombstone).unwrap();
            } else {
                w.add(key.as_bytes(), &Entry::Put(vec![(i % 251) as u8; i % 700]))
                    .unwrap();
            }
        }
        assert_eq!(w.finish().unwrap(), n as u64);
        Arc::new(Table::open(&path).unwrap())
    }

    #[test]
    fn reads_back_every_entry_by_key_and_in_order() {
        for packing in [Packing::Deflated, Packing::Raw] {
            let dir = tempfile::tempdir().unwrap();
            let t = written_as(dir.path(), 5000, packing);
            assert_eq!(t.is_raw(), packing == Packing::Raw);
            reads_back_every_entry(&t);
        }
    }

    fn reads_back_every_entry(t: &Arc<Table>) {
        assert!(t.blocks.len() > 10, "{} blocks", t.blocks.len());
        assert_eq!(t.get(b"k/000003").unwrap(), Some(Entry::Tombstone));
        assert_eq!(
            t.get(b"k/004999").unwrap(),
            Some(Entry::Put(vec![(4999 % 251) as u8; 4999 % 700]))
        );
        assert_eq!(t.get(b"k/005000").unwrap(), None);
        assert_eq!(t.get(b"a").unwrap(), None);
        let all: Vec<_> = t.iter_from(b"").map(|r| r.unwrap().0).collect();
        assert_eq!(all.len(), 5000);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let tail: Vec<_> = t.iter_from(b"k/004997x").map(|r| r.unwrap().0).collect();
        assert_eq!(tail, [b"k/004998".to_vec(), b"k/004999".to_vec()]);
    }

    #[test]
    fn a_table_handed_to_the_disk_in_parts_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let t = written_as(dir.path(), 40_000, Packing::Raw);
        assert!(t.bytes() > 2 * WRITE_BACK_EVERY, "{} bytes", t.bytes());
        assert_eq!(t.iter_from(b"").count(), 40_000);
        assert_eq!(
            t.get(b"k/039999").unwrap(),
            Some(Entry::Put(vec![(39_999 % 251) as u8; 39_999 % 700]))
        );
    }

    #[test]
    fn an_empty_table_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let t = written(dir.path(), 0);
        assert_eq!(t.get(b"x").unwrap(), None);
        assert_eq!(t.iter_from(b"").count(), 0);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        for packing in [Packing::Deflated, Packing::Raw] {
            let dir = tempfile::tempdir().unwrap();
            drop(written_as(dir.path(), 3000, packing));
            a_damaged_table_is_an_error(&dir.path().join("t.tbl"));
        }
    }

    fn a_damaged_table_is_an_error(path: &Path) {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[100] ^= 0xff;
        std::fs::write(path, &bytes).unwrap();
        let t = Arc::new(Table::open(path).unwrap());
        assert!(t.iter_from(b"").any(|r| r.is_err()));
        std::fs::write(path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Table::open(path).is_err());
        std::fs::write(path, b"short").unwrap();
        assert!(Table::open(path).is_err());
    }
}
