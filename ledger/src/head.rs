//! The head file (`DATA/HEAD`): the last flushed head, kept outside the store so
//! that a store rolled back to an older state is caught at open. It only moves
//! forward, and is written only by `Syncer::flush_store`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use crate::codec::{self, Head};
use crate::error::{Error, Result};
use crate::faults::{self, Op};

/// The head file: the last durable head, kept outside the store so that a store
/// rolled back to an older state is caught at open. It only moves forward.
#[derive(Debug)]
pub(crate) struct HeadFile {
    pub(crate) file: File,
    /// The size it records, so that a sync finishing late never moves it back.
    pub(crate) size: Mutex<u64>,
}

impl HeadFile {
    pub(crate) fn write(&self, head: &Head) -> Result<()> {
        let mut size = self.size.lock().unwrap_or_else(|p| p.into_inner());
        if head.size <= *size {
            return Ok(()); // already recorded, or a later head is
        }
        faults::io(Op::Write, "head file", || {
            self.file.write_all_at(&codec::encode_head(head), 0)
        })
        .and_then(|()| faults::io(Op::Fsync, "head file", || self.file.sync_data()))
        .map_err(|e| Error::io("updating the head file", e))?;
        *size = head.size;
        Ok(())
    }
}
