//! A reader adapter that makes any byte stream valid UTF-8, replacing invalid
//! sequences with U+FFFD, so that one bad byte in a JUnit file costs one
//! character instead of the rest of the file.

use std::io::{self, BufRead, Read};

const CHUNK: usize = 128 * 1024;
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Wraps a reader; what it yields is always valid UTF-8.
pub struct Utf8Lossy<R> {
    inner: R,
    /// Bytes read but not yet checked (a sequence cut by the chunk boundary).
    raw: Vec<u8>,
    /// Checked output.
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    replaced: u64,
}

impl<R: Read> Utf8Lossy<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            raw: Vec::with_capacity(CHUNK + 4),
            out: Vec::with_capacity(CHUNK + 16),
            pos: 0,
            eof: false,
            replaced: 0,
        }
    }

    /// How many invalid sequences were replaced so far.
    pub fn replaced(&self) -> u64 {
        self.replaced
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() {
            if !self.eof {
                let start = self.raw.len();
                self.raw.resize(start + CHUNK, 0);
                let n = loop {
                    match self.inner.read(&mut self.raw[start..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                self.raw.truncate(start + n);
                if n == 0 {
                    self.eof = true;
                }
            }
            if self.raw.is_empty() {
                return Ok(());
            }
            self.convert();
            if self.eof && self.out.is_empty() && self.raw.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Moves the valid prefix of `raw` to `out`, replacing invalid sequences;
    /// keeps an incomplete trailing sequence in `raw` unless at the end of input.
    fn convert(&mut self) {
        let mut input = &self.raw[..];
        loop {
            match std::str::from_utf8(input) {
                Ok(s) => {
                    self.out.extend_from_slice(s.as_bytes());
                    input = &[];
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    self.out.extend_from_slice(&input[..valid]);
                    match e.error_len() {
                        Some(len) => {
                            self.out.extend_from_slice(REPLACEMENT);
                            self.replaced += 1;
                            input = &input[valid + len..];
                        }
                        None if self.eof => {
                            self.out.extend_from_slice(REPLACEMENT);
                            self.replaced += 1;
                            input = &[];
                            break;
                        }
                        None => {
                            input = &input[valid..];
                            break;
                        }
                    }
                }
            }
        }
        let keep = input.len();
        let len = self.raw.len();
        self.raw.copy_within(len - keep.., 0);
        self.raw.truncate(keep);
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
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
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

    #[test]
    fn valid_input_passes_through() {
        assert_eq!(convert("héllo ✔".as_bytes()), ("héllo ✔".to_owned(), 0));
    }

    #[test]
    fn invalid_bytes_are_replaced() {
        assert_eq!(convert(b"a\xffb\xc3"), ("a\u{FFFD}b\u{FFFD}".to_owned(), 2));
    }

    #[test]
    fn sequences_split_across_chunks_survive() {
        // Put a 3-byte char across the 128 KiB boundary.
        let mut input = vec![b'x'; CHUNK - 1];
        input.extend_from_slice("✔".as_bytes());
        input.extend_from_slice(b"end");
        let (s, replaced) = convert(&input);
        assert_eq!(replaced, 0);
        assert!(s.ends_with("✔end"));
        assert_eq!(s.len(), input.len());
    }
}
