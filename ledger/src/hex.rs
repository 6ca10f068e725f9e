//! Lower-case hex, the one way this workspace writes and reads bytes as text: hashes
//! (event, payload and blob names), salts and key ids. Pure.

use crate::Hash;

/// Lower-case hex of any bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Parses exactly `N` bytes written as `2 * N` lower-case hex digits; anything else
/// (upper case, other lengths, other characters) is refused.
pub fn parse<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let value = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = value(pair[0])? << 4 | value(pair[1])?;
    }
    Some(bytes)
}

/// A 64-digit lower-case hex hash.
pub fn parse_hash(text: &str) -> Option<Hash> {
    parse::<32>(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_what_is_not_lower_case_hex() {
        let bytes = [0x00, 0x9f, 0xa0, 0xff];
        assert_eq!(hex(&bytes), "009fa0ff");
        assert_eq!(parse::<4>("009fa0ff"), Some(bytes));
        assert_eq!(parse::<4>("009FA0FF"), None);
        assert_eq!(parse::<4>("009fa0f"), None);
        assert_eq!(parse::<4>("009fa0fg"), None);
        assert_eq!(parse_hash(&"ab".repeat(32)), Some([0xab; 32]));
    }
}
