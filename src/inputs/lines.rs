//! A streaming line splitter: fixed memory whatever the input, no allocation per line.
//!
//! Lines are split on `\n` with `memchr`. A line longer than the limit is
//! returned cut at the limit (flagged `truncated`) and the rest of it is
//! skipped without being stored, so a 200 MB line costs no more memory than
//! a short one.

use std::io::{self, Read};

/// Default read buffer size.
const BUF_SIZE: usize = 256 * 1024;
/// Default longest line handed out; longer lines are cut.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// One line, borrowed from the reader's buffer, without its `\n`.
#[derive(Debug)]
pub struct Line<'a> {
    /// The bytes of the line (at most the reader's limit), `\r` not removed.
    pub bytes: &'a [u8],
    /// 1-based line number.
    pub number: u64,
    /// The line was longer than the limit and was cut.
    pub truncated: bool,
}

/// Splits a byte stream into lines with a fixed-size buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    max_line: usize,
    line_no: u64,
}

impl<R: Read> LineReader<R> {
    /// A reader with the default limits.
    pub fn new(inner: R) -> Self {
        Self::with_max_line(inner, DEFAULT_MAX_LINE)
    }

    /// A reader that cuts lines at `max_line` bytes.
    pub fn with_max_line(inner: R, max_line: usize) -> Self {
        let max_line = max_line.max(1);
        Self {
            inner,
            buf: vec![0; BUF_SIZE.max(2 * max_line)],
            start: 0,
            end: 0,
            eof: false,
            max_line,
            line_no: 0,
        }
    }

    /// Total bytes held by the reader (constant after construction).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.len()
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(i) = memchr::memchr(b'\n', pending) {
                let s = self.start;
                self.start = s + i + 1;
                let truncated = i > self.max_line;
                return Ok(Some(self.emit(s, s + i.min(self.max_line), truncated)));
            }
            if pending.len() >= self.max_line {
                self.compact();
                self.skip_rest_of_line()?;
                return Ok(Some(self.emit(0, self.max_line, true)));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let (s, e) = (self.start, self.end);
                self.start = self.end;
                return Ok(Some(self.emit(s, e, false)));
            }
            self.fill()?;
        }
    }

    fn emit(&mut self, s: usize, e: usize, truncated: bool) -> Line<'_> {
        self.line_no += 1;
        Line {
            bytes: &self.buf[s..e],
            number: self.line_no,
            truncated,
        }
    }

    /// Moves unread bytes to the front of the buffer.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Moves unread bytes to the front and reads more after them.
    fn fill(&mut self) -> io::Result<()> {
        self.compact();
        let n = read_retrying(&mut self.inner, &mut self.buf[self.end..])?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    /// Discards input up to and including the next `\n`, leaving the first
    /// `max_line` bytes of the current line at the front of the buffer for the
    /// caller; the buffer must have been compacted.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        let keep_end = self.max_line;
        if let Some(i) = memchr::memchr(b'\n', &self.buf[keep_end..self.end]) {
            self.start = keep_end + i + 1;
            return Ok(());
        }
        // The newline is further on: read into the spare tail of the buffer and drop it.
        let scratch_from = keep_end;
        loop {
            let n = read_retrying(&mut self.inner, &mut self.buf[scratch_from..])?;
            if n == 0 {
                self.eof = true;
                self.end = scratch_from;
                self.start = scratch_from;
                return Ok(());
            }
            if let Some(i) = memchr::memchr(b'\n', &self.buf[scratch_from..scratch_from + n]) {
                // Bytes after the newline belong to the next lines: keep them.
                let rest_from = scratch_from + i + 1;
                let rest_to = scratch_from + n;
                self.start = rest_from;
                self.end = rest_to;
                return Ok(());
            }
        }
    }
}

fn read_retrying<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut r = LineReader::with_max_line(input, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated));
        }
        out
    }

    #[test]
    fn splits_lines_and_keeps_last_without_newline() {
        let got = collect(b"a\nbb\r\n\nccc", 100);
        let want = [("a", false), ("bb\r", false), ("", false), ("ccc", false)];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1), w);
        }
    }

    #[test]
    fn cuts_long_lines_and_resumes_after_them() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nnext\n");
        let got = collect(&input, 16);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), 16);
        assert!(got[0].1);
        assert_eq!(got[1], ("next".to_owned(), false));
    }

    #[test]
    fn long_line_spanning_many_reads() {
        // Longer than the internal buffer, so the skip loop has to read repeatedly.
        let mut input = vec![b'y'; BUF_SIZE * 3 + 17];
        input.extend_from_slice(b"\ntail");
        let got = collect(&input, 8);
        assert_eq!(
            got,
            vec![("yyyyyyyy".to_owned(), true), ("tail".to_owned(), false)]
        );
    }

    #[test]
    fn long_final_line_without_newline() {
        let input = vec![b'z'; BUF_SIZE * 2];
        let got = collect(&input, 4);
        assert_eq!(got, vec![("zzzz".to_owned(), true)]);
    }

    #[test]
    fn line_numbers_count_from_one() {
        let mut r = LineReader::new(&b"a\nb\n"[..]);
        assert_eq!(r.next_line().unwrap().unwrap().number, 1);
        assert_eq!(r.next_line().unwrap().unwrap().number, 2);
        assert!(r.next_line().unwrap().is_none());
    }
}
