//! Deflate and inflate for the store, with one compressor and one decompressor kept per thread.
//! A fresh miniz compressor zeroes about 300 KB of tables before it reads a byte: under
//! StartPipelineExecution load, building one per record was a fifth of the server's CPU (perf:
//! zeroed allocations, memset, frees). Resetting a kept one costs a fraction of that.

use std::cell::RefCell;
use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Raw deflate (records) or zlib-wrapped (table blocks): the two formats already on disk.
#[derive(Clone, Copy)]
pub enum Framing {
    Raw,
    Zlib,
}

impl Framing {
    fn zlib(self) -> bool {
        matches!(self, Framing::Zlib)
    }
}

thread_local! {
    static COMPRESSORS: RefCell<[Option<Compress>; 2]> = const { RefCell::new([None, None]) };
    static DECOMPRESSORS: RefCell<[Option<Decompress>; 2]> = const { RefCell::new([None, None]) };
}

/// Appends `raw`, deflated at the fast level, to `out`.
pub fn deflate_into(raw: &[u8], framing: Framing, out: &mut Vec<u8>) -> io::Result<()> {
    COMPRESSORS.with_borrow_mut(|kept| {
        let compressor = kept[usize::from(framing.zlib())]
            .get_or_insert_with(|| Compress::new(Compression::fast(), framing.zlib()));
        // Reset before each use, so one that an error left mid-stream starts clean.
        compressor.reset();
        run_deflate(compressor, raw, out)
    })
}

fn run_deflate(compressor: &mut Compress, raw: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    loop {
        out.reserve(raw.len() / 2 + 64);
        let read = usize::try_from(compressor.total_in()).unwrap_or(raw.len());
        let rest = raw.get(read..).unwrap_or_default();
        match compressor.compress_vec(rest, out, FlushCompress::Finish)? {
            Status::StreamEnd => return Ok(()),
            Status::Ok | Status::BufError => {}
        }
    }
}

/// `packed` inflated, refused once it would pass `limit` bytes (a damaged or hostile value cannot
/// balloon) or when the stream ends early.
pub fn inflate(packed: &[u8], framing: Framing, limit: usize) -> io::Result<Vec<u8>> {
    DECOMPRESSORS.with_borrow_mut(|kept| {
        let decompressor = kept[usize::from(framing.zlib())]
            .get_or_insert_with(|| Decompress::new(framing.zlib()));
        decompressor.reset(framing.zlib());
        run_inflate(decompressor, packed, limit)
    })
}

fn run_inflate(decompressor: &mut Decompress, packed: &[u8], limit: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(packed.len().saturating_mul(4).clamp(64, limit.max(64)));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(damaged("inflates beyond its limit"));
            }
            out.reserve((out.len().max(4096)).min(limit - out.len()));
        }
        let (read, wrote) = (decompressor.total_in(), decompressor.total_out());
        let rest = usize::try_from(read)
            .ok()
            .and_then(|at| packed.get(at..))
            .unwrap_or_default();
        let status = decompressor
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|e| damaged(&e.to_string()))?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
        let stuck = decompressor.total_in() == read && decompressor.total_out() == wrote;
        if stuck && out.len() < out.capacity() {
            return Err(damaged("the stream ends early"));
        }
    }
}

fn damaged(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("deflated data: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(raw: &[u8], framing: Framing) -> Vec<u8> {
        let mut packed = Vec::new();
        deflate_into(raw, framing, &mut packed).unwrap();
        inflate(&packed, framing, 1 << 20).unwrap()
    }

    #[test]
    fn both_framings_round_trip_and_kept_coders_start_clean() {
        let text = b"the same words again ".repeat(500);
        for framing in [Framing::Raw, Framing::Zlib] {
            for raw in [&text[..], b"", b"x", &text[..]] {
                assert_eq!(round_trip(raw, framing), raw);
            }
        }
    }

    #[test]
    fn the_formats_match_what_flate2_streams_write() {
        use std::io::Write as _;
        let raw = b"a record a record a record".repeat(40);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
        zlib.write_all(&raw).unwrap();
        assert_eq!(
            inflate(&zlib.finish().unwrap(), Framing::Zlib, 1 << 20).unwrap(),
            raw
        );
        let mut bare = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        bare.write_all(&raw).unwrap();
        assert_eq!(
            inflate(&bare.finish().unwrap(), Framing::Raw, 1 << 20).unwrap(),
            raw
        );
    }

    #[test]
    fn damaged_truncated_and_oversized_streams_are_errors() {
        let raw = vec![0u8; 100_000];
        let mut packed = Vec::new();
        deflate_into(&raw, Framing::Raw, &mut packed).unwrap();
        assert!(inflate(&packed, Framing::Raw, 50_000).is_err());
        assert!(inflate(&packed[..packed.len() / 2], Framing::Raw, 1 << 20).is_err());
        assert!(inflate(&[0xff, 0x00, 0x13], Framing::Raw, 1 << 20).is_err());
        assert!(inflate(&[], Framing::Zlib, 1 << 20).is_err());
        // The coder that saw the damage still works.
        assert_eq!(inflate(&packed, Framing::Raw, 1 << 20).unwrap(), raw);
    }
}
