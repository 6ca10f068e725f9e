//! Evidence files, stored content-addressed: `blobs/<BLAKE3 hex>` in the data folder.
//!
//! A blob is written to a temporary name, fsynced, renamed into place and the folder
//! fsynced, so it is durable before any event that names it is appended. Blobs are
//! never served or looked up by a caller-supplied path, only by hash.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::faults::{self, Op};
use crate::storage::sync_dir;
use crate::Hash;

/// The largest evidence file accepted, in bytes (25 MiB).
pub const MAX_BLOB_BYTES: u64 = 25 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// The BLAKE3 hash that names a blob.
pub fn blake3_of(bytes: &[u8]) -> Hash {
    *blake3::hash(bytes).as_bytes()
}

use crate::hex::hex;

impl BlobStore {
    pub fn new(dir: PathBuf) -> BlobStore {
        BlobStore { dir }
    }

    /// Stores `bytes` durably and returns their BLAKE3 hash. Storing the same bytes
    /// twice is harmless and writes nothing the second time.
    pub fn put(&self, bytes: &[u8]) -> Result<Hash> {
        if bytes.len() as u64 > MAX_BLOB_BYTES {
            return Err(Error::Rejected(format!(
                "evidence file is {} bytes, over the limit of {} MiB; split it or store a smaller copy",
                bytes.len(),
                MAX_BLOB_BYTES / 1024 / 1024
            )));
        }
        let hash = blake3_of(bytes);
        let name = hex(&hash);
        let path = self.dir.join(&name);
        if path.exists() && self.get(&hash).is_ok() {
            return Ok(hash);
        }
        crate::space::ensure(
            &self.dir,
            bytes.len() as u64 + crate::space::BYTES_PER_EVENT,
        )?;
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let target = format!("evidence {name}");
        let written = faults::io(Op::Create, &target, || File::create(&tmp))
            .and_then(|mut f| {
                faults::io(Op::Write, &target, || f.write_all(bytes))
                    .and_then(|()| faults::io(Op::Fsync, &target, || f.sync_all()))
            })
            .and_then(|()| faults::io(Op::Rename, &target, || fs::rename(&tmp, &path)));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(format!("storing evidence {name}"), e));
        }
        sync_dir(&self.dir)?;
        Ok(hash)
    }

    /// Reads a blob and checks that its bytes still hash to its name.
    pub fn get(&self, hash: &Hash) -> Result<Vec<u8>> {
        let name = hex(hash);
        let bytes = fs::read(self.dir.join(&name)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Rejected(format!("no evidence file with hash {name}"))
            } else {
                Error::io(format!("reading evidence {name}"), e)
            }
        })?;
        if blake3::hash(&bytes).as_bytes() != hash {
            return Err(Error::corruption(
                None,
                format!("evidence file {name} no longer matches its hash"),
            ));
        }
        Ok(bytes)
    }

    /// Deletes a blob (an evidence file no payload names any more, after an erasure)
    /// and fsyncs the folder, so the deletion survives a power cut. A blob that is
    /// already gone is not an error.
    pub fn remove(&self, hash: &Hash) -> Result<()> {
        let name = hex(hash);
        match fs::remove_file(self.dir.join(&name)) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("deleting evidence {name}"), e)),
        }
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.dir.join(hex(hash)).is_file()
    }

    /// Every blob file name in the folder, sorted, with temporary files left out.
    pub fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| Error::io(format!("listing {}", self.dir.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("listing evidence files", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(".tmp-") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
