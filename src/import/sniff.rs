//! What a file is, from its first bytes and (for zip containers) its parts, never
//! from its name: a Word document, a spreadsheet, text, or something Assure cannot
//! read (then a message that names what it is and what to export instead).
//!
//! Pure and cheap: it reads at most the zip's directory, never a part's contents.

use std::io::Cursor;

use super::grid::Unreadable;

/// The kinds of file an import can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A Word document (.docx, also .docm): its tables.
    Word,
    /// An Excel workbook (.xlsx, .xlsm): one sheet.
    Excel,
    /// An OpenDocument spreadsheet (.ods): one sheet.
    OpenDocument,
    /// Delimited text (CSV, TSV, semicolon-separated), in any of the encodings
    /// `text::decode` reads.
    Text,
}

const SAVE_AS: &str =
    "save the plan from Word as .docx or from Excel as .xlsx (or as \"CSV UTF-8\") and import that";

/// Tells what `bytes` hold, or why they cannot be imported.
pub fn file_kind(bytes: &[u8]) -> Result<FileKind, Unreadable> {
    let refuse = |what: &str, todo: &str| Err(Unreadable::new(format!("{what}; {todo}")));
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return refuse(
            "the file is empty",
            "export the plan with its header row and actions, then import again",
        );
    }
    if bytes.starts_with(b"%PDF") {
        return refuse(
            "the file is a PDF, which keeps the look of a plan but not its table",
            "import the Word or Excel file the PDF was made from (.docx, .xlsx or CSV)",
        );
    }
    if let Some(image) = image_kind(bytes) {
        return refuse(
            &format!("the file is an image ({image}), not a plan's table"),
            SAVE_AS,
        );
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Unreadable::new(compound_file(bytes)));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return zip_kind(bytes);
    }
    if bytes.starts_with(b"{\\rtf") {
        return refuse("the file is Rich Text (RTF)", SAVE_AS);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<?xml") && head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
        return refuse(
            "the file is an Excel 2003 XML spreadsheet",
            "open it in Excel, save it as .xlsx and import that",
        );
    }
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return refuse("the file is a web page (HTML)", SAVE_AS);
    }
    Ok(FileKind::Text)
}

fn image_kind(bytes: &[u8]) -> Option<&'static str> {
    let signatures: [(&[u8], &str); 6] = [
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"\xFF\xD8\xFF", "JPEG"),
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\0", "TIFF"),
        (b"MM\0*", "TIFF"),
    ];
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some("WebP");
    }
    signatures
        .into_iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| name)
}

/// An OLE2 compound file: an encrypted Office file, or a legacy .doc or .xls.
/// The stream names are in its directory, as UTF-16LE.
fn compound_file(bytes: &[u8]) -> String {
    let has = |name: &str| {
        let wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.windows(wide.len()).any(|w| w == wide.as_slice())
    };
    if has("EncryptedPackage") || has("EncryptionInfo") {
        "the file is password-protected (encrypted), so its contents cannot be read; open it, remove the password (File › Info › Protect, then save) and import again".to_owned()
    } else if has("WordDocument") {
        "the file is a Word 97-2003 document (.doc); open it in Word, save it as .docx (Word Document) and import that".to_owned()
    } else if has("Workbook") || has("Book") {
        "the file is an Excel 97-2003 workbook (.xls); open it in Excel, save it as .xlsx (Excel Workbook) and import that".to_owned()
    } else {
        format!("the file is an older Microsoft Office file (not .docx or .xlsx); {SAVE_AS}")
    }
}

/// Word, Excel and OpenDocument files are zip archives; their parts say which.
fn zip_kind(bytes: &[u8]) -> Result<FileKind, Unreadable> {
    let archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(error) => {
            return Err(Unreadable::new(format!("the file is a zip archive (as .docx and .xlsx files are) but it is damaged or incomplete ({error}); open it in Word or Excel, save it again and import the saved copy")));
        }
    };
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("word/document.xml") {
        return Ok(FileKind::Word);
    }
    if has("xl/workbook.xml") {
        return Ok(FileKind::Excel);
    }
    if has("xl/workbook.bin") {
        return Err(Unreadable::new("the file is an Excel binary workbook (.xlsb); open it in Excel, save it as .xlsx (Excel Workbook) and import that"));
    }
    if has("content.xml") {
        let mimetype = opendocument_type(bytes);
        return match mimetype.as_deref() {
            Some(m) if m.ends_with("spreadsheet") => Ok(FileKind::OpenDocument),
            Some(m) if m.ends_with("text") => Err(Unreadable::new("the file is an OpenDocument text document (.odt); open it, save it as Word (.docx) and import that")),
            _ => Err(Unreadable::new(format!("the file is an OpenDocument file that is not a spreadsheet; {SAVE_AS}"))),
        };
    }
    if has("ppt/presentation.xml") {
        return Err(Unreadable::new(format!(
            "the file is a PowerPoint presentation; {SAVE_AS}"
        )));
    }
    Err(Unreadable::new(format!(
        "the file is a zip archive but not a Word, Excel or OpenDocument file; {SAVE_AS}"
    )))
}

/// The OpenDocument `mimetype` part, which the format stores first and uncompressed.
fn opendocument_type(bytes: &[u8]) -> Option<String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let file = archive.by_name("mimetype").ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 200), &mut text).ok()?;
    Some(text.trim().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn zip_with(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, text) in parts {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            writer.start_file(*name, options).unwrap();
            writer.write_all(text.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn refused(bytes: &[u8]) -> String {
        file_kind(bytes).unwrap_err().message
    }

    #[test]
    fn kinds_come_from_the_content_not_the_name() {
        assert_eq!(file_kind(b"ref,action\n1.1,a\n"), Ok(FileKind::Text));
        assert_eq!(
            file_kind(&zip_with(&[("word/document.xml", "<w:document/>")])),
            Ok(FileKind::Word)
        );
        assert_eq!(
            file_kind(&zip_with(&[("xl/workbook.xml", "<workbook/>")])),
            Ok(FileKind::Excel)
        );
        let ods = zip_with(&[
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", "<x/>"),
        ]);
        assert_eq!(file_kind(&ods), Ok(FileKind::OpenDocument));
    }

    #[test]
    fn what_cannot_be_read_is_named_with_what_to_do() {
        assert!(refused(b"").contains("empty"));
        assert!(refused(b" \n\r\n").contains("empty"));
        assert!(refused(b"%PDF-1.4\n...").contains("PDF"));
        assert!(refused(b"\x89PNG\r\n\x1a\n....").contains("image (PNG)"));
        let mut doc = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        doc.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(refused(&doc).contains(".doc)"));
        let mut encrypted = doc.clone();
        encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(refused(&encrypted).contains("password-protected"));
        assert!(refused(b"PK\x03\x04 broken").contains("damaged"));
        let odt = zip_with(&[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "<x/>"),
        ]);
        assert!(refused(&odt).contains(".odt"));
        assert!(refused(b"<!DOCTYPE html><table>").contains("HTML"));
        assert!(refused(b"{\\rtf1 hello}").contains("RTF"));
    }
}
