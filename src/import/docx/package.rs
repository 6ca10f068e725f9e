//! The zip package of a `.docx` document: opened (old `.doc` and password-protected
//! files refused by name, a cut-short download said to be one), each part read within
//! a size limit, a package that is some other Office file named as what it is, and a
//! part's bytes decoded as the UTF-8 or UTF-16 Word writes.
//!
//! It reads bytes and nothing else: it never interprets a part, and never unpacks a
//! part past its limit, whatever the package declares.

use std::io::Cursor;

use zip::result::ZipError;
use zip::ZipArchive;

use super::super::grid::Unreadable;
use super::super::office::{check_package, read_within, PART_LIMIT};
use super::{damaged, RESAVE};

pub(super) fn open_package(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, Unreadable> {
    // Old binary .doc files and password-protected .docx files are both OLE
    // compound files; saying which they are saves the user a guess.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Unreadable::new(
            "the file is an older Word .doc document or a password-protected .docx, which \
             cannot be read; open it in Word, remove any password, save it as \
             \"Word Document (.docx)\" and import again",
        ));
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|error| {
        // A zip that starts right but cannot be opened was usually cut short.
        if bytes.starts_with(b"PK\x03\x04") {
            return Unreadable::new(format!(
                "the Word document is damaged or incomplete ({error}); it may have been cut \
                 short while downloading or copying: copy or download it again, or {RESAVE}"
            ));
        }
        Unreadable::new(format!(
            "the file is not a Word .docx document (it is not a zip package: {error}); \
             open it in Word, save it as \"Word Document (.docx)\" and import again"
        ))
    })?;
    check_package(&mut archive).map_err(|refusal| {
        Unreadable::new(refusal.message(
            "Word document",
            "copy the plan's tables into a new document and import that",
        ))
    })?;
    Ok(archive)
}

/// Reads one part of the package, or `None` when the package has no such part.
pub(super) fn read_part(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<Vec<u8>>, Unreadable> {
    read_part_within(archive, name, PART_LIMIT)
}

pub(super) fn read_part_within(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, Unreadable> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(error) => return Err(damaged(name, error)),
    };
    let declared = file.size();
    let Some(bytes) = read_within(file, declared, limit).map_err(|error| damaged(name, error))?
    else {
        return Err(Unreadable::new(format!(
            "the Word document's {name} unpacks to more than {} MiB, far more than any \
             action plan, so it was not read (it may be damaged or built to exhaust memory); \
             copy the plan's tables into a new document and import that",
            limit / (1024 * 1024)
        )));
    };
    Ok(Some(bytes))
}

/// The error for a zip package without `word/document.xml`, naming what it is instead.
pub(super) fn missing_document(archive: &mut ZipArchive<Cursor<&[u8]>>) -> Unreadable {
    let has = |archive: &mut ZipArchive<Cursor<&[u8]>>, name: &str| archive.by_name(name).is_ok();
    if has(archive, "xl/workbook.xml") {
        Unreadable::new(
            "the file is an Excel workbook, not a Word document; save it with the .xlsx \
             extension and import it as a spreadsheet",
        )
    } else if has(archive, "ppt/presentation.xml") {
        Unreadable::new(
            "the file is a PowerPoint presentation, not a Word document; copy the plan's \
             table into a Word document or spreadsheet and import that",
        )
    } else {
        Unreadable::new(
            "the file is a zip package without word/document.xml, so it is not a Word \
             .docx document; open the plan in Word, save it as \"Word Document (.docx)\" \
             and import again",
        )
    }
}

/// Decodes a part's XML: UTF-8 as Word writes it, or UTF-16 with a byte-order mark.
/// Takes the bytes, so that a large part is never held twice.
pub(super) fn xml_text(part: &str, mut bytes: Vec<u8>) -> Result<String, Unreadable> {
    let big_endian = match bytes.as_slice() {
        [0xFF, 0xFE, ..] => false,
        [0xFE, 0xFF, ..] => true,
        _ => {
            if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
                bytes.drain(..3);
            }
            return String::from_utf8(bytes).map_err(|error| damaged(part, error));
        }
    };
    let units = bytes[2..].chunks_exact(2).map(|pair| match big_endian {
        true => u16::from_be_bytes([pair[0], pair[1]]),
        false => u16::from_le_bytes([pair[0], pair[1]]),
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|error| damaged(part, error))
}
