//! Byte scans eight bytes at a time.
//!
//! Writers look at every byte of every cell (is it a digit, does it need
//! quoting or escaping). Byte by byte, each step of such a loop costs a few
//! instructions plus, inside the sandbox, the fuel and deadline checks every
//! loop iteration carries; cells are short, so a call into a library
//! `memchr` costs more than it saves. These scans read a cell as a handful of
//! 64-bit words instead and test all eight bytes of a word at once with
//! integer arithmetic, which is as fast natively as it is in WebAssembly.

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether `test` holds for every word of `bytes`: words of eight bytes that
/// together cover every byte of `bytes` (some twice) and no byte outside it.
/// A slice shorter than eight bytes is read as one word made of its own
/// bytes, repeated; an empty slice has no words.
#[inline]
fn every_word(bytes: &[u8], test: impl Fn(u64) -> bool) -> bool {
    if let Some(last) = bytes.last_chunk::<8>() {
        let (words, _) = bytes.as_chunks::<8>();
        words.iter().all(|word| test(u64::from_le_bytes(*word))) && test(u64::from_le_bytes(*last))
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        test(u64::from(u32::from_le_bytes(*first)) | (u64::from(u32::from_le_bytes(*last)) << 32))
    } else if let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) {
        let middle = bytes[bytes.len() / 2];
        test(u64::from_le_bytes([
            first, middle, last, last, last, last, last, last,
        ]))
    } else {
        true
    }
}

/// Whether some byte of `word` is `byte`: XOR leaves a zero byte exactly
/// there, and subtracting one from each byte sets the top bit of a byte that
/// was zero (a borrow only ever starts at a zero byte, so no other byte can
/// set it first).
#[inline]
fn holds(word: u64, byte: u8) -> bool {
    let diff = word ^ (ONES * u64::from(byte));
    diff.wrapping_sub(ONES) & !diff & HIGHS != 0
}

/// Whether every byte of `word` is an ASCII digit (`0x30`–`0x39`): the high
/// half of each byte is 3, and still 3 after adding 6. A carry out of a byte
/// only comes from a byte above `0xF9`, which already fails.
#[inline]
fn digits(word: u64) -> bool {
    const HIGH_HALVES: u64 = u64::from_ne_bytes([0xF0; 8]);
    const SIXES: u64 = u64::from_ne_bytes([0x06; 8]);
    const THREES: u64 = u64::from_ne_bytes([0x33; 8]);
    (word & HIGH_HALVES) | ((word.wrapping_add(SIXES) & HIGH_HALVES) >> 4) == THREES
}

/// Whether `bytes` holds any of the bytes in `set`: e.g. whether a CSV
/// field needs quotes, `contains_any(field, *b"\",\r\n")`. Searching UTF-8
/// text for ASCII bytes this way is exact, since an ASCII byte is never part
/// of a longer character.
#[inline]
pub fn contains_any<const N: usize>(bytes: &[u8], set: [u8; N]) -> bool {
    !every_word(bytes, |word| !set.iter().any(|&byte| holds(word, byte)))
}

/// Whether `bytes` is one or more ASCII digits.
#[inline]
pub(super) fn all_digits(bytes: &[u8]) -> bool {
    !bytes.is_empty() && every_word(bytes, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to three words, with the byte looked for at every
    /// position, next to bytes one above and below it.
    #[test]
    fn contains_any_finds_a_byte_wherever_it_is() {
        for len in 0..=24 {
            let plain = vec![b'a'; len];
            assert!(!contains_any(&plain, *b"\",\r\n"), "len {len}");
            assert!(!contains_any(&vec![b',' - 1; len], [b',']), "len {len}");
            assert!(!contains_any(&vec![b',' + 1; len], [b',']), "len {len}");
            for at in 0..len {
                for byte in [b'"', b',', b'\r', b'\n'] {
                    let mut text = plain.clone();
                    text[at] = byte;
                    assert!(contains_any(&text, *b"\",\r\n"), "len {len} at {at}");
                    assert!(!contains_any(&text, [b'x']), "len {len} at {at}");
                }
            }
        }
    }

    #[test]
    fn contains_any_reads_non_ascii_text_exactly() {
        let text = "naïve café — ½ €, 日本".as_bytes();
        assert!(contains_any(text, [b',']));
        assert!(!contains_any(text, [b'"', b'\r', b'\n']));
        assert!(!contains_any(
            &[0x80, 0xff, 0xc3, 0xa9, 0x7f, 0x01],
            [0x00, b'"']
        ));
        assert!(contains_any(&[0xff, 0xff, 0xff, 0x00], [0x00]));
    }

    #[test]
    fn all_digits_checks_every_byte() {
        assert!(!all_digits(b""));
        for len in 1..=24 {
            let digits: Vec<u8> = (0..len).map(|i| b'0' + (i % 10) as u8).collect();
            assert!(all_digits(&digits), "len {len}");
            for at in 0..len {
                for byte in [b'/', b':', b'-', b' ', 0xff, 0xf9, 0xfa, 0x39 + 0x80, 0x00] {
                    let mut text = digits.clone();
                    text[at] = byte;
                    assert!(!all_digits(&text), "len {len} at {at} byte {byte:#x}");
                }
            }
        }
    }
}
