//! Hostile Office files, built here byte by byte: a zip container written by hand
//! (so that a test can declare sizes that lie, break the central directory or the
//! checksum), and deflate streams that expand a few megabytes into gigabytes of a
//! repeated fragment without the test ever holding or compressing those gigabytes.

/// One entry of a hand-written zip.
pub struct Entry {
    pub name: String,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// The bytes as they stand in the file (compressed for method 8).
    pub data: Vec<u8>,
    pub crc: u32,
    /// The uncompressed size the headers declare (true unless a test lies).
    pub size: u32,
}

/// A part stored as is, with its true size and checksum.
pub fn stored(name: &str, bytes: impl AsRef<[u8]>) -> Entry {
    let bytes = bytes.as_ref().to_vec();
    Entry {
        name: name.to_owned(),
        method: 0,
        crc: crc32(&bytes),
        size: u32::try_from(bytes.len()).unwrap(),
        data: bytes,
    }
}

/// A deflated part that unpacks to `prefix`, `fragment` repeated `count` times, then
/// `suffix`. The checksum is computed only when `checksum` is set (it costs a pass
/// over every expanded byte); a reader that refuses the part before its end never
/// sees it.
pub fn periodic(
    name: &str,
    prefix: &str,
    fragment: &str,
    count: u64,
    suffix: &str,
    checksum: bool,
) -> Entry {
    let (prefix, fragment, suffix) = (prefix.as_bytes(), fragment.as_bytes(), suffix.as_bytes());
    assert!(count >= 1 && !fragment.is_empty() && fragment.len() <= 32_768);
    let repeated = fragment.len() as u64 * (count - 1);
    let matches = repeated / 258;
    let remainder: Vec<u8> = (0..repeated - matches * 258)
        .map(|i| fragment[((matches * 258 + i) % fragment.len() as u64) as usize])
        .collect();
    let mut bits = Bits::default();
    let head = [prefix, fragment].concat();
    bits.stored_blocks(&head, false);
    bits.repeat_block(fragment.len(), matches);
    bits.stored_blocks(&[remainder.as_slice(), suffix].concat(), true);
    let size = prefix.len() as u64 + fragment.len() as u64 * count + suffix.len() as u64;
    let crc = if checksum {
        let mut crc = Crc::default();
        crc.update(prefix);
        let chunk: Vec<u8> = fragment
            .iter()
            .copied()
            .cycle()
            .take(fragment.len() * (65_536 / fragment.len() + 1))
            .collect();
        let mut left = fragment.len() as u64 * count;
        while left > 0 {
            let take = left.min(chunk.len() as u64) as usize;
            crc.update(&chunk[..take]);
            left -= take as u64;
        }
        crc.update(suffix);
        crc.finish()
    } else {
        0
    };
    Entry {
        name: name.to_owned(),
        method: 8,
        data: bits.finish(),
        crc,
        size: u32::try_from(size).expect("parts here stay under 4 GiB (no zip64)"),
    }
}

/// A zip of `entries`, in order: local headers and data, then the central directory.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let header = |signature: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(signature.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // needed to extract
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(entry.method.to_le_bytes());
            h.extend(0u32.to_le_bytes()); // time and date
            h.extend(entry.crc.to_le_bytes());
            h.extend(u32::try_from(entry.data.len()).unwrap().to_le_bytes());
            h.extend(entry.size.to_le_bytes());
            h.extend(u16::try_from(entry.name.len()).unwrap().to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra field
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(entry.name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&entry.data);
        central.extend(header(0x0201_4b50, true));
    }
    let directory_at = u32::try_from(out.len()).unwrap();
    let count = u16::try_from(entries.len()).unwrap();
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // disk numbers
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(u32::try_from(central.len()).unwrap().to_le_bytes());
    out.extend(directory_at.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // comment
    out
}

/// An OLE2 compound file with the given stream names in its directory, as far as
/// the sniffing reads one: the signature and the names in UTF-16LE.
pub fn compound_file(streams: &[&str]) -> Vec<u8> {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(512, 0);
    for stream in streams {
        let mut name: Vec<u8> = stream.encode_utf16().flat_map(u16::to_le_bytes).collect();
        name.resize(128, 0);
        bytes.extend(name);
    }
    bytes.resize(4096, 0);
    bytes
}

// ------------------------------------------------------------------ deflate

/// Bits written least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    current: u64,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.current |= value << self.count;
        self.count += count;
        while self.count >= 8 {
            self.bytes.push(self.current as u8);
            self.current >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code, written most significant bit first.
    fn code(&mut self, code: u64, length: u32) {
        for i in (0..length).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    fn align(&mut self) {
        if self.count > 0 {
            self.put(0, 8 - self.count);
        }
    }

    fn stored_blocks(&mut self, data: &[u8], last: bool) {
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(65_535).collect()
        };
        let final_index = chunks.len() - 1;
        for (index, chunk) in chunks.into_iter().enumerate() {
            self.put(u64::from(last && index == final_index), 1);
            self.put(0, 2);
            self.align();
            let length = chunk.len() as u16;
            self.put(u64::from(length), 16);
            self.put(u64::from(!length), 16);
            self.bytes.extend(chunk);
        }
    }

    /// A dynamic-Huffman block of `matches` copies of 258 bytes from `distance`
    /// back: the length code 285 and the one distance code get one bit each, so each
    /// 258 bytes cost two bits and the distance code's extra bits.
    fn repeat_block(&mut self, distance: usize, matches: u64) {
        let (code, base, extra) = distance_code(distance);
        self.put(0, 1); // not the last block
        self.put(2, 2); // dynamic Huffman
        self.put(29, 5); // 286 literal/length codes
        self.put(code as u64, 5); // code + 1 distance codes
        self.put(14, 4); // 18 code-length codes
                         // Code-length code lengths, in the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1:
                         // symbols 0, 1, 17 and 18 get two bits each (codes 00, 01, 10, 11).
        for symbol in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1] {
            let length = if matches!(symbol, 0 | 1 | 17 | 18) {
                2
            } else {
                0
            };
            self.put(length, 3);
        }
        // Literal/length lengths: 0–255 none, 256 (end of block) one bit, 257–284
        // none, 285 (length 258) one bit; then the distance lengths.
        self.zeros(256);
        self.code(1, 2);
        self.zeros(28);
        self.code(1, 2);
        self.zeros(code);
        self.code(1, 2);
        for _ in 0..matches {
            self.code(1, 1); // length 258
            self.code(0, 1); // the distance code
            self.put((distance - base) as u64, extra);
        }
        self.code(0, 1); // end of block
    }

    /// `n` zero code lengths with the code-length codes 18, 17 and 0.
    fn zeros(&mut self, mut n: usize) {
        while n > 0 {
            if n >= 11 {
                let run = n.min(138);
                self.code(3, 2);
                self.put((run - 11) as u64, 7);
                n -= run;
            } else if n >= 3 {
                self.code(2, 2);
                self.put((n - 3) as u64, 3);
                n = 0;
            } else {
                self.code(0, 2);
                n -= 1;
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.bytes
    }
}

/// Deflate's distance code for `distance`: (code, base, extra bits).
fn distance_code(distance: usize) -> (usize, usize, u32) {
    let mut base = 1;
    for code in 0..30 {
        let extra = if code < 4 { 0 } else { (code as u32 - 2) / 2 };
        if distance < base + (1 << extra) {
            return (code, base, extra);
        }
        base += 1 << extra;
    }
    panic!("distance {distance} is beyond deflate's window");
}

// ------------------------------------------------------------------ CRC-32

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc::default();
    crc.update(bytes);
    crc.finish()
}

struct Crc {
    table: [u32; 256],
    value: u32,
}

impl Default for Crc {
    fn default() -> Crc {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        Crc {
            table,
            value: 0xFFFF_FFFF,
        }
    }
}

impl Crc {
    fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.value =
                self.table[((self.value ^ u32::from(byte)) & 0xFF) as usize] ^ (self.value >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.value ^ 0xFFFF_FFFF
    }
}

#[test]
fn the_hand_written_zip_and_deflate_read_back_with_the_zip_crate() {
    use std::io::Read as _;
    let entries = [
        stored("a.txt", "hello"),
        periodic("b.xml", "<r>", "<x/>", 1000, "</r>", true),
        periodic("c.xml", "<r>", "<row>some cells</row>", 77, "</r>", true),
        periodic("d.bin", "", "\0", 70_000, "", true),
    ];
    let bytes = zip(&entries);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut text = Vec::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_end(&mut text)
            .unwrap();
        text
    };
    assert_eq!(read("a.txt"), b"hello");
    assert_eq!(
        read("b.xml"),
        format!("<r>{}</r>", "<x/>".repeat(1000)).as_bytes()
    );
    assert_eq!(
        read("c.xml"),
        format!("<r>{}</r>", "<row>some cells</row>".repeat(77)).as_bytes()
    );
    assert_eq!(read("d.bin"), vec![0u8; 70_000]);
}
