//! The app's compact form of what it reads: nanoserde's binary encoding.
//!
//! The API speaks JSON to people and scripts. The app asks for this form
//! instead (`Accept: application/octet-stream`, or `?format=binary` on the
//! live stream, whose events carry it in base64): decoding JSON in the wasm
//! cost about 27 KB gzip of the 150 KB first-load budget, decoding this
//! costs a few. The layout follows the field order of the shared types, so
//! the app and the proxy must come from the same build.

use nanoserde::{DeBin, SerBin};

/// The media type of the binary form.
pub const MEDIA_TYPE: &str = "application/octet-stream";

/// The version of the binary form: the first byte of every message. Change
/// it with any change to a type the app reads, so that a page older than the
/// proxy says "reload" instead of misreading.
pub const WIRE_VERSION: u8 = 13;

/// `value` in the binary form, version byte first.
pub fn encode<T: SerBin>(value: &T) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    value.ser_bin(&mut out);
    out
}

/// A value from [`encode`]'s bytes, or why it cannot be read.
pub fn decode<T: DeBin>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        Some((&WIRE_VERSION, rest)) => T::deserialize_bin(rest).map_err(|err| err.to_string()),
        _ => Err("this page is older or newer than the Watchpost server; reload the page".into()),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4): a stream event is text.
pub fn to_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of standard base64, or `None` if it is not base64.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for byte in text {
        let value = ALPHABET.iter().position(|a| a == byte)? as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Change, Entry};

    /// An entry as the stream sends it to the app, pinned byte for byte: if
    /// this test fails, the binary form changed, and `WIRE_VERSION` must too.
    /// A project's binary form, pinned by its length: a setting added to
    /// `Project` fails this test, and `WIRE_VERSION` must change with it.
    #[test]
    fn the_binary_form_of_a_project_is_pinned() {
        let blank = crate::project::Project::blank(1);
        assert_eq!(encode(&blank).len(), 84);
    }

    #[test]
    fn the_binary_form_of_an_entry_is_pinned() {
        let entry = Entry {
            id: 7,
            op_id: "op".into(),
            actor: "Ana".into(),
            at: "T".into(),
            change: Change::Ticked { item: "h0".into() },
        };
        let bytes = encode(&entry);
        #[rustfmt::skip]
        let golden: &[u8] = &[
            13, // WIRE_VERSION
            7, 0, 0, 0, 0, 0, 0, 0, // id
            2, 0, 0, 0, 0, 0, 0, 0, b'o', b'p', // op_id
            3, 0, 0, 0, 0, 0, 0, 0, b'A', b'n', b'a', // actor
            1, 0, 0, 0, 0, 0, 0, 0, b'T', // at
            0, 0, // Change::Ticked (a u16 tag)
            2, 0, 0, 0, 0, 0, 0, 0, b'h', b'0', // item
        ];
        assert_eq!(bytes, golden);
        assert_eq!(decode::<Entry>(&bytes), Ok(entry));
        let mut newer = bytes.clone();
        newer[0] = WIRE_VERSION + 1;
        assert!(decode::<Entry>(&newer).is_err_and(|why| why.contains("reload")));
        assert!(decode::<Entry>(&[]).is_err());
        assert!(decode::<Entry>(&bytes[..10]).is_err());
    }

    #[test]
    fn base64_follows_rfc_4648() {
        // RFC 4648 §10's test vectors.
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(to_base64(plain.as_bytes()), encoded);
            assert_eq!(from_base64(encoded).as_deref(), Some(plain.as_bytes()));
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(from_base64(&to_base64(&every_byte)), Some(every_byte));
        assert_eq!(from_base64("not base64!"), None);
    }
}
