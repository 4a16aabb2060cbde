//! The node's directory: the chain spec it serves and the blocks it authored.
//!
//! ```text
//! DIR/chainspec.json   raw chain spec of the running chain (development genesis, bootnodes)
//! DIR/endpoints.json   {"p2p": [multiaddr/p2p/<peer id>, …], "rpc": "ws://…"}
//! DIR/blocks.log       every block after genesis: u32 LE length, then SCALE (header, body)
//! ```
//!
//! Only blocks are stored, not states: at start the node re-executes them on the genesis state
//! (the runtime checks each block's roots, so a damaged file is refused, not believed).
//! Justifications are not stored either: GRANDPA's ed25519 signatures are deterministic, so
//! signing again gives the same bytes. A record cut short by a crash mid-write is dropped.

use parity_scale_codec::{Decode, Encode};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A record larger than this is not one this node wrote.
const MAX_RECORD: usize = 64 * 1024 * 1024;

/// A stored block: its sealed header and its body.
pub type StoredBlock = (Vec<u8>, Vec<Vec<u8>>);

/// Writes a file whole or not at all (readers never see half of it).
pub fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, contents)?;
    std::fs::rename(partial, path)
}

pub struct Store {
    dir: PathBuf,
    blocks: File,
}

impl Store {
    /// Opens (creating) `dir` and its block log.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let blocks = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("blocks.log"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            blocks,
        })
    }

    pub fn chain_spec_path(&self) -> PathBuf {
        self.dir.join("chainspec.json")
    }

    pub fn endpoints_path(&self) -> PathBuf {
        self.dir.join("endpoints.json")
    }

    /// The stored chain spec, if this directory has run a chain before.
    pub fn chain_spec(&self) -> io::Result<Option<String>> {
        match std::fs::read_to_string(self.chain_spec_path()) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The stored blocks, in order. A torn last record is cut off the file, so that the next
    /// block is appended after the last whole one.
    pub fn blocks(&mut self) -> io::Result<Vec<StoredBlock>> {
        let mut bytes = Vec::new();
        File::open(self.dir.join("blocks.log"))?.read_to_end(&mut bytes)?;
        let mut rest = bytes.as_slice();
        let mut blocks = Vec::new();
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_le_bytes(*len) as usize;
            let Some(record) = tail.get(..len).filter(|_| len <= MAX_RECORD) else {
                // Cut short by a crash: the block was never served as stored.
                let whole = bytes.len() - rest.len();
                self.blocks.set_len(whole as u64)?;
                break;
            };
            let block = StoredBlock::decode(&mut &record[..]).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "blocks.log: block {} does not decode: {e}",
                        blocks.len() + 1
                    ),
                )
            })?;
            blocks.push(block);
            rest = &tail[len..];
        }
        Ok(blocks)
    }

    /// Appends a block and flushes it to the disk.
    pub fn append(&mut self, header: &[u8], body: &[Vec<u8>]) -> io::Result<()> {
        let record = (header, body).encode();
        let len = u32::try_from(record.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "block too large"))?;
        let mut out = len.to_le_bytes().to_vec();
        out.extend(record);
        self.blocks.write_all(&out)?;
        self.blocks.sync_data()
    }

    /// Drops the log (a chain spec changed under a directory that holds another chain's blocks
    /// is refused before this; this is for `--reset`).
    pub fn reset(&mut self) -> io::Result<()> {
        self.blocks.set_len(0)
    }
}

#[cfg(test)]
mod tests {
    use super::Store;

    #[test]
    fn blocks_round_trip_and_a_torn_record_is_dropped() {
        let dir = std::env::temp_dir().join(format!("taoscope-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut store = Store::open(&dir).unwrap_or_else(|e| panic!("{e}"));
        store
            .append(&[1, 2, 3], &[vec![4], vec![5, 6]])
            .unwrap_or_else(|e| panic!("{e}"));
        store.append(&[7], &[]).unwrap_or_else(|e| panic!("{e}"));
        let blocks = store.blocks().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            blocks,
            vec![
                (vec![1, 2, 3], vec![vec![4], vec![5, 6]]),
                (vec![7], vec![])
            ]
        );
        // A crash in the middle of the third record.
        let log = dir.join("blocks.log");
        let mut bytes = std::fs::read(&log).unwrap_or_default();
        bytes.extend_from_slice(&[100, 0, 0, 0, 1, 2]);
        std::fs::write(&log, bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.blocks().map(|b| b.len()).ok(), Some(2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
