//! A reader adapter that makes any byte stream valid UTF-8, replacing invalid
//! sequences with U+FFFD, so that one bad byte in a JUnit file costs one
//! character instead of the rest of the file.
//!
//! Valid input (the usual case) is checked in place and handed out without a
//! copy; only a chunk that holds an invalid sequence is rebuilt.

use std::io::{self, BufRead, Read};

const CHUNK: usize = 256 * 1024;
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// [`std::str::from_utf8`], with the check of valid text (the usual case)
/// done by `simdutf8`'s SIMD validator, several times faster than the
/// standard library's on text that is not all ASCII; only invalid text is
/// checked again, by the standard library, for where it fails.
pub fn from_utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

/// Wraps a reader; what it yields is always valid UTF-8.
pub struct Utf8Lossy<R> {
    inner: R,
    /// Bytes read: `buf[..end]` is checked output (unless `fixed` is in use),
    /// `buf[end..end + tail]` an incomplete sequence cut by the chunk boundary.
    buf: Vec<u8>,
    end: usize,
    tail: usize,
    /// A rebuilt chunk, when the read one held invalid sequences.
    fixed: Vec<u8>,
    use_fixed: bool,
    pos: usize,
    eof: bool,
    replaced: u64,
}

impl<R: Read> Utf8Lossy<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; CHUNK + 4],
            end: 0,
            tail: 0,
            fixed: Vec::new(),
            use_fixed: false,
            pos: 0,
            eof: false,
            replaced: 0,
        }
    }

    /// How many invalid sequences were replaced so far.
    pub fn replaced(&self) -> u64 {
        self.replaced
    }

    /// Where the checked output ends, in the buffer in use.
    fn available_end(&self) -> usize {
        if self.use_fixed {
            self.fixed.len()
        } else {
            self.end
        }
    }

    fn available(&self) -> &[u8] {
        if self.use_fixed {
            &self.fixed[self.pos..]
        } else {
            &self.buf[self.pos..self.end]
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        // Carry an incomplete sequence over to the front.
        self.buf.copy_within(self.end..self.end + self.tail, 0);
        let mut total = self.tail;
        self.pos = 0;
        self.end = 0;
        self.tail = 0;
        self.use_fixed = false;
        loop {
            if !self.eof {
                let n = loop {
                    match self.inner.read(&mut self.buf[total..CHUNK]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                if n == 0 {
                    self.eof = true;
                }
                total += n;
            }
            match from_utf8(&self.buf[..total]) {
                Ok(_) => {
                    self.end = total;
                    return Ok(());
                }
                Err(e) if e.error_len().is_none() && !self.eof => {
                    // Only an incomplete sequence at the very end: hand out the rest.
                    if e.valid_up_to() > 0 || total >= CHUNK {
                        self.end = e.valid_up_to();
                        self.tail = total - self.end;
                        return Ok(());
                    }
                    // Nothing complete yet: read more.
                }
                Err(_) => {
                    self.rebuild(total);
                    return Ok(());
                }
            }
        }
    }

    /// Copies `buf[..total]` into `fixed` with invalid sequences replaced,
    /// keeping an incomplete trailing sequence for the next chunk unless at the end.
    fn rebuild(&mut self, total: usize) {
        self.fixed.clear();
        let mut input = &self.buf[..total];
        let mut keep = 0;
        loop {
            match std::str::from_utf8(input) {
                Ok(s) => {
                    self.fixed.extend_from_slice(s.as_bytes());
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    self.fixed.extend_from_slice(&input[..valid]);
                    match e.error_len() {
                        Some(len) => {
                            self.fixed.extend_from_slice(REPLACEMENT);
                            self.replaced += 1;
                            input = &input[valid + len..];
                        }
                        None if self.eof => {
                            self.fixed.extend_from_slice(REPLACEMENT);
                            self.replaced += 1;
                            break;
                        }
                        None => {
                            keep = input.len() - valid;
                            break;
                        }
                    }
                }
            }
        }
        // The kept bytes sit at the end of `buf[..total]`: mark them as the tail.
        self.end = total - keep;
        self.tail = keep;
        self.use_fixed = true;
    }
}

impl<R: Read> Read for Utf8Lossy<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Utf8Lossy<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // quick-xml asks several times per element: the usual answer is one test away.
        if self.pos < self.available_end() {
            return Ok(self.available());
        }
        while self.available().is_empty() && !(self.eof && self.tail == 0) {
            self.refill()?;
        }
        Ok(self.available())
    }

    fn consume(&mut self, amt: usize) {
        self.pos = self.pos.saturating_add(amt).min(self.available_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(input: &[u8]) -> (String, u64) {
        let mut r = Utf8Lossy::new(input);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (s, r.replaced())
    }

    /// The fast check answers as the standard library's does, error
    /// positions included, on valid, invalid and cut text of every length
    /// around the SIMD validator's block sizes.
    #[test]
    fn from_utf8_agrees_with_the_standard_library() {
        let pieces: [&[u8]; 7] = [
            b"ascii ",
            "é✔🚀".as_bytes(),
            b"\xff",
            b"\xe2\x9c",
            b"\xf0\x9f\x9a",
            b"\xc0\x80",
            b"\xed\xa0\x80",
        ];
        for len in [0, 1, 15, 31, 32, 33, 63, 64, 65, 200] {
            for (i, p) in pieces.iter().enumerate() {
                for at in [0, len / 2, len] {
                    let mut bytes = b"x".repeat(len);
                    bytes.splice(at..at, p.iter().copied());
                    bytes.extend_from_slice(pieces[(i + 1) % pieces.len()]);
                    let (ours, std) = (from_utf8(&bytes), std::str::from_utf8(&bytes));
                    assert_eq!(ours, std, "{bytes:?}");
                }
            }
        }
    }

    /// A reader that hands out one byte at a time: every boundary is exercised.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn valid_input_passes_through() {
        assert_eq!(convert("héllo ✔".as_bytes()), ("héllo ✔".to_owned(), 0));
    }

    #[test]
    fn invalid_bytes_are_replaced() {
        assert_eq!(convert(b"a\xffb\xc3"), ("a\u{FFFD}b\u{FFFD}".to_owned(), 2));
    }

    #[test]
    fn byte_at_a_time_reads() {
        let input = "é✔ x \u{1F600}"
            .as_bytes()
            .iter()
            .chain(b"\xff!")
            .copied()
            .collect::<Vec<u8>>();
        let mut r = Utf8Lossy::new(Trickle(&input));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "é✔ x \u{1F600}\u{FFFD}!");
    }

    #[test]
    fn sequences_split_across_chunks_survive() {
        // Put a 3-byte char across the chunk boundary, and an invalid byte in the next chunk.
        let mut input = vec![b'x'; CHUNK - 1];
        input.extend_from_slice("✔".as_bytes());
        input.extend_from_slice(b"end\xff");
        let (s, replaced) = convert(&input);
        assert_eq!(replaced, 1);
        assert!(s.ends_with("✔end\u{FFFD}"));
        assert_eq!(s.len(), CHUNK - 1 + 3 + 3 + 3);
    }
}
