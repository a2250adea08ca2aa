//! A streaming line splitter: fixed memory whatever the input, no allocation per line.
//!
//! Lines are split on `\n` with `memchr`. A line longer than the limit is
//! returned cut at the limit (flagged `truncated`) and the rest of it is
//! skipped without being stored, so a 200 MB line costs no more memory than
//! a short one.
//!
//! The work that does not depend on the line is done once per buffer of
//! lines, not once per line: the UTF-8 check (each line comes with its text
//! when it is valid), the search for the control bytes that a log's
//! framing may need undone, and the search for `tox`, which a line that
//! runs tox holds.

use std::io::{self, Read};

use crate::inputs::utf8::from_utf8;

/// Default read buffer size.
const BUF_SIZE: usize = 256 * 1024;
/// Default longest line handed out; longer lines are cut.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// One line, borrowed from the reader's buffer, without its `\n`.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The bytes of the line (at most the reader's limit), `\r` not removed.
    pub bytes: &'a [u8],
    /// The same bytes as text, when they are valid UTF-8 (a line cut inside a
    /// character is not).
    pub text: Option<&'a str>,
    /// 1-based line number.
    pub number: u64,
    /// The line was longer than the limit and was cut.
    pub truncated: bool,
    /// The line holds a NUL, a carriage return or an ESC.
    pub controls: bool,
    /// The line holds `tox`, or a control byte (an escape sequence removed
    /// from between its letters would join them).
    pub tox: bool,
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

    /// Gives every line of the input to `f`, in order, and returns how many
    /// there were.
    pub fn for_each_line(&mut self, mut f: impl FnMut(Line<'_>)) -> io::Result<u64> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(i) = memchr::memrchr(b'\n', pending) {
                // All the complete lines in the buffer at once.
                let block = &self.buf[self.start..self.start + i];
                self.line_no = split_block(block, self.line_no, self.max_line, &mut f);
                self.start += i + 1;
                continue;
            }
            // Longer than the limit (a line of exactly the limit is whole).
            if pending.len() > self.max_line {
                self.compact();
                self.skip_rest_of_line()?;
                self.line_no += 1;
                f(single_line(&self.buf[..self.max_line], self.line_no, true));
                continue;
            }
            if self.eof {
                if self.start < self.end {
                    self.line_no += 1;
                    f(single_line(pending, self.line_no, false));
                    self.start = self.end;
                }
                return Ok(self.line_no);
            }
            self.fill()?;
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

/// Hands out the lines of `block` (lines separated by `\n`, the last one
/// without it), numbered after `line_no`; returns the last number.
fn split_block(
    block: &[u8],
    mut line_no: u64,
    max_line: usize,
    f: &mut impl FnMut(Line<'_>),
) -> u64 {
    // `valid` is the text of `block[valid_from..]` up to its first invalid
    // byte; the check starts again after a line that holds one.
    let mut valid_from = 0;
    let mut valid = valid_prefix(block);
    // The next control byte at or after the current line, if any.
    let mut next_control = find_control(block, 0);
    let tox = memchr::memmem::Finder::new(b"tox");
    let find_tox = |from: usize| tox.find(&block[from..]).map_or(usize::MAX, |i| from + i);
    let mut next_tox = find_tox(0);
    let mut from = 0;
    let ends = memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len()));
    for end in ends {
        let truncated = end - from > max_line;
        let cut = if truncated { from + max_line } else { end };
        if next_control < from {
            next_control = find_control(block, from);
        }
        if next_tox < from {
            next_tox = find_tox(from);
        }
        if from > valid_from + valid.len() {
            valid_from = from;
            valid = valid_prefix(&block[from..]);
        }
        line_no += 1;
        f(Line {
            bytes: &block[from..cut],
            text: valid.get(from - valid_from..cut - valid_from),
            number: line_no,
            truncated,
            controls: next_control < cut,
            // (`tox` whole before the cut.)
            tox: next_tox < cut.saturating_sub(2) || next_control < cut,
        });
        from = end + 1;
    }
    line_no
}

/// The longest valid UTF-8 start of `bytes`.
fn valid_prefix(bytes: &[u8]) -> &str {
    match from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// A line on its own (cut, or the last one of the input).
fn single_line(bytes: &[u8], number: u64, truncated: bool) -> Line<'_> {
    let controls = find_control(bytes, 0) < bytes.len();
    Line {
        bytes,
        text: from_utf8(bytes).ok(),
        number,
        truncated,
        controls,
        tox: controls || memchr::memmem::find(bytes, b"tox").is_some(),
    }
}

/// Where the first NUL, CR or ESC at or after `from` is (`usize::MAX` if none).
fn find_control(bytes: &[u8], from: usize) -> usize {
    memchr::memchr3(0, b'\r', 0x1b, &bytes[from..]).map_or(usize::MAX, |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut r = LineReader::with_max_line(input, max);
        let mut out = Vec::new();
        r.for_each_line(|l| out.push((String::from_utf8_lossy(l.bytes).into_owned(), l.truncated)))
            .unwrap();
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
        let mut numbers = Vec::new();
        let n = r.for_each_line(|l| numbers.push(l.number)).unwrap();
        assert_eq!((numbers, n), (vec![1, 2], 2));
    }

    /// A line as the reader describes it: number, bytes, text, truncated,
    /// controls, tox.
    type Described = (u64, Vec<u8>, Option<String>, bool, bool, bool);

    /// What the `tox` flag must say of a line's kept bytes.
    fn holds_tox(kept: &[u8], controls: bool) -> bool {
        controls || kept.windows(3).any(|w| w == b"tox")
    }

    /// Every line, with what the reader says of it; read `step` bytes at a
    /// time when given (so lines and characters fall across reads).
    fn described_by(input: &[u8], max: usize, step: Option<usize>) -> Vec<Described> {
        let mut out = Vec::new();
        let mut note = |l: Line<'_>| {
            let text = l.text.map(str::to_owned);
            out.push((
                l.number,
                l.bytes.to_vec(),
                text,
                l.truncated,
                l.controls,
                l.tox,
            ))
        };
        match step {
            Some(step) => LineReader::with_max_line(Trickle { data: input, step }, max)
                .for_each_line(&mut note),
            None => LineReader::with_max_line(input, max).for_each_line(&mut note),
        }
        .unwrap();
        out
    }

    fn described(input: &[u8], max: usize) -> Vec<Described> {
        described_by(input, max, Some(7))
    }

    /// A reader that returns at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.step).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// The text and the control flag are per line, whatever the buffer
    /// holds around it: a bad byte or an ESC on one line says nothing of the next.
    #[test]
    fn text_and_controls_are_per_line() {
        let input = b"ok \xc3\xa9\nbad \xff byte\nafter\n\x1b[31mred\x1b[0m\nplain\ncr\rover\nnul\0\n$ tox -e a\nto\nx\nlast \xc3\xa9".to_vec();
        for got in [described(&input, 100), described_by(&input, 100, None)] {
            let want: Vec<Described> = input
                .split(|&b| b == b'\n')
                .enumerate()
                .map(|(i, l)| {
                    let controls = l.iter().any(|&b| matches!(b, 0 | b'\r' | 0x1b));
                    let text = std::str::from_utf8(l).ok().map(str::to_owned);
                    let tox = holds_tox(l, controls);
                    (i as u64 + 1, l.to_vec(), text, false, controls, tox)
                })
                .collect();
            assert_eq!(got, want);
        }
        assert_eq!(described(&input, 100)[1].2, None);
        assert!(described(&input, 100)[2].2.is_some());
    }

    /// Pseudo-random bytes (newlines, control bytes, a two-byte character
    /// and bytes that are never UTF-8), read whole and 7 bytes at a time,
    /// give what a plain split gives.
    #[test]
    fn agrees_with_a_plain_split() {
        const ALPHABET: &[&[u8]] = &[
            b"\n",
            b"\r",
            b"\x1b",
            b"\0",
            b"\xff",
            b"\xc3\xa9",
            b"\xc3",
            b"a",
            b"bc",
            b"t",
            b"ox",
            b"tox",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..400 {
            let mut input = Vec::new();
            for _ in 0..round % 97 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                input.extend_from_slice(ALPHABET[(seed % ALPHABET.len() as u64) as usize]);
            }
            let max = 1 + round % 13;
            let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            if input.is_empty() || input.ends_with(b"\n") {
                pieces.pop();
            }
            let want: Vec<_> = pieces
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let cut = &l[..l.len().min(max)];
                    let controls = cut.iter().any(|&b| matches!(b, 0 | b'\r' | 0x1b));
                    let text = std::str::from_utf8(cut).ok().map(str::to_owned);
                    let tox = holds_tox(cut, controls);
                    (
                        i as u64 + 1,
                        cut.to_vec(),
                        text,
                        l.len() > max,
                        controls,
                        tox,
                    )
                })
                .collect();
            for step in [Some(7), None] {
                assert_eq!(described_by(&input, max, step), want, "{input:?} max {max}");
            }
        }
    }

    /// A line cut inside a character has no text; the cut is still flagged.
    #[test]
    fn a_cut_inside_a_character_has_no_text() {
        let got = described("aé\nbé\n".as_bytes(), 2);
        assert_eq!(got[0].1, b"a\xc3");
        assert_eq!((got[0].2.as_deref(), got[0].3), (None, true));
        assert_eq!(got[1].2.as_deref(), None);
        let got = described("ab\nxé\n".as_bytes(), 3);
        assert_eq!((got[0].2.as_deref(), got[0].3), (Some("ab"), false));
        assert_eq!((got[1].2.as_deref(), got[1].3), (Some("xé"), false));
    }
}
