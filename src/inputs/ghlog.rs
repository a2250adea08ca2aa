//! Undoes the framing around tox's text: a GitHub Actions job log's byte-order
//! mark, per-line timestamps and `##[...]` markers, Windows line ends, carriage
//! return progress updates, ANSI colour codes and invalid UTF-8.
//!
//! [`LineCleaner::clean`] turns a raw line into text tox printed, borrowing
//! from the input whenever nothing needs removing.

use crate::inputs::lines::Line;

/// A GitHub Actions log marker line (`##[group]Run ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker<'a> {
    /// `##[group]<title>`: a step (or a folded section) begins.
    Group(&'a str),
    /// `##[endgroup]`.
    EndGroup,
    /// `##[error]<message>`: for a failing step, `Process completed with exit code N.`
    Error(&'a str),
    /// `##[warning]`, `##[notice]`, `##[debug]`, `##[command]` and others.
    Other(&'a str),
}

/// A cleaned line: either text as tox printed it, or a GitHub marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleaned<'a> {
    /// Output text, framing removed.
    Text(&'a str),
    /// A GitHub log marker.
    Marker(Marker<'a>),
}

/// Strips framing from lines, reusing its buffers so that no line allocates.
#[derive(Debug, Default)]
pub struct LineCleaner {
    bytes: Vec<u8>,
    text: String,
}

impl LineCleaner {
    /// A cleaner with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cleans one raw line (without its `\n`). `first` strips a UTF-8 BOM.
    pub fn clean<'a>(&'a mut self, raw: &'a [u8], first: bool) -> Cleaned<'a> {
        let controls = memchr::memchr2(b'\r', 0x1b, raw).is_some();
        // No text given: the cleaned part alone is checked, once.
        self.clean_known(raw, None, first, controls)
    }

    /// Cleans a line as [`LineReader`](crate::inputs::lines::LineReader)
    /// hands it out: its text is already checked, and whether it holds a
    /// control byte already known.
    pub fn clean_line<'a>(&'a mut self, line: Line<'a>) -> Cleaned<'a> {
        // Most lines of a log that is not a GitHub job's are text as they
        // are: no BOM (not the first line), no `\r` or ESC, no timestamp
        // (which starts with a digit) and no `##[` marker.
        if let Some(text) = line.text
            && line.number != 1
            && !line.controls
            && !matches!(line.bytes.first(), Some(b'0'..=b'9' | b'#'))
        {
            return Cleaned::Text(text);
        }
        self.clean_known(line.bytes, line.text, line.number == 1, line.controls)
    }

    /// [`LineCleaner::clean`], told the line's text if it is valid UTF-8, and
    /// whether it may hold a `\r` or an ESC (`controls`): most lines hold
    /// neither, and both are found once for many lines.
    fn clean_known<'a>(
        &'a mut self,
        raw: &'a [u8],
        raw_text: Option<&'a str>,
        first: bool,
        controls: bool,
    ) -> Cleaned<'a> {
        let mut line = raw;
        if first {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        line = line.strip_suffix(b"\r").unwrap_or(line);
        line = strip_timestamp(line);
        // A bare `\r` inside a line is a progress update: keep what a terminal shows last.
        if controls && let Some(cr) = memchr::memrchr(b'\r', line) {
            line = &line[cr + 1..];
        }
        // What is left is a part of `raw`, cut after or before ASCII bytes:
        // the same part of its text is text.
        let at = (line.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
        let text: &str = if controls && memchr::memchr(0x1b, line).is_some() {
            strip_ansi(line, &mut self.bytes);
            to_text(&self.bytes, &mut self.text)
        } else if let Some(t) = raw_text.and_then(|t| t.get(at..at + line.len())) {
            t
        } else {
            to_text(line, &mut self.text)
        };
        match parse_marker(text) {
            Some(m) => Cleaned::Marker(m),
            None => Cleaned::Text(text),
        }
    }
}

/// `bytes` as text: borrowed when valid UTF-8, else copied into `buf` with
/// invalid sequences replaced.
fn to_text<'a>(bytes: &'a [u8], buf: &'a mut String) -> &'a str {
    match crate::inputs::utf8::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            buf.clear();
            buf.push_str(&String::from_utf8_lossy(bytes));
            buf
        }
    }
}

/// Removes a GitHub log timestamp (`2026-11-20T10:11:12.1234567Z `) from the start of a line.
pub fn strip_timestamp(line: &[u8]) -> &[u8] {
    // YYYY-MM-DDTHH:MM:SS then optional fraction, then `Z` and one space.
    if line.len() < 21 {
        return line;
    }
    let b = line;
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && digits(11..13)
        && digits(14..16)
        && digits(17..19);
    if !shape {
        return line;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && b[i] == b'Z' {
        i += 1;
        if i < b.len() && b[i] == b' ' {
            i += 1;
        }
        return &line[i..];
    }
    line
}

/// Copies `line` into `out` without ANSI escape sequences (CSI `ESC [ ... final`,
/// OSC `ESC ] ... BEL|ESC \`, and two-byte `ESC x`).
pub fn strip_ansi(line: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        i += 1;
        if b != 0x1b {
            out.push(b);
            continue;
        }
        match line.get(i) {
            Some(b'[') => {
                i += 1;
                // Parameter and intermediate bytes, then one final byte in @..~.
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') => {
                i += 1;
                while i < line.len() {
                    if line[i] == 0x07 {
                        i += 1;
                        break;
                    }
                    if line[i] == 0x1b && line.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => i += 1,
            None => {}
        }
    }
}

fn parse_marker(text: &str) -> Option<Marker<'_>> {
    let rest = text.strip_prefix("##[")?;
    let (name, body) = rest.split_once(']')?;
    Some(match name {
        "group" => Marker::Group(body),
        "endgroup" => Marker::EndGroup,
        "error" => Marker::Error(body),
        _ => Marker::Other(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &[u8], first: bool) -> String {
        let mut c = LineCleaner::new();
        match c.clean(raw, first) {
            Cleaned::Text(t) => t.to_owned(),
            Cleaned::Marker(m) => format!("{m:?}"),
        }
    }

    #[test]
    fn a_line_as_the_reader_hands_it_out_is_cleaned_as_a_raw_line() {
        let parts: [&[u8]; 12] = [
            b"",
            b"\xEF\xBB\xBF",
            b"2026-11-20T10:11:12.1234567Z ",
            b"2026-11-20T10:11:12Z ",
            b"##[group]Run tox",
            b"##[error]boom",
            b"py3.12-x: OK",
            b"\r",
            b"\x1b[32m.\x1b[0m",
            b"12 passed",
            b"# comment",
            b"caf\xC3\xA9",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let raw = [a, b, c].concat();
                    // The line twice, as the reader hands out lines 1 and 2.
                    let log = [&raw[..], b"\n", &raw[..], b"\n"].concat();
                    let mut reader = crate::inputs::lines::LineReader::new(&log[..]);
                    reader
                        .for_each_line(|line| {
                            let first = line.number == 1;
                            let got = format!("{:?}", LineCleaner::new().clean_line(line));
                            let want = format!("{:?}", LineCleaner::new().clean(&raw, first));
                            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&raw));
                            checked += 1;
                        })
                        .expect("read from memory");
                }
            }
        }
        assert_eq!(checked, 2 * 12 * 12 * 12);
    }

    #[test]
    fn strips_bom_timestamp_and_crlf() {
        let raw = b"\xEF\xBB\xBF2026-11-20T10:11:12.1234567Z py3.12-common: OK\r";
        assert_eq!(clean(raw, true), "py3.12-common: OK");
    }

    #[test]
    fn timestamp_without_fraction() {
        assert_eq!(clean(b"2026-11-20T10:11:12Z hello", false), "hello");
    }

    #[test]
    fn not_a_timestamp_is_kept() {
        assert_eq!(
            clean(b"2026-11-20 is a date", false),
            "2026-11-20 is a date"
        );
    }

    #[test]
    fn strips_pytest_coloured_progress() {
        let mut out = Vec::new();
        strip_ansi(
            b"tests/t.py \x1b[32m.\x1b[0m\x1b[33ms\x1b[0m\x1b[31mF\x1b[0m \x1b[32m [ 17%]\x1b[0m",
            &mut out,
        );
        assert_eq!(out, b"tests/t.py .sF  [ 17%]");
    }

    #[test]
    fn strips_ansi_sequences() {
        let raw = b"\x1b[1m\x1b[35mpy3.11-common:\x1b[0m\x1b[36m commands[0]\x1b[22m\x1b[2m>\x1b[0m pytest\x1b[0m";
        assert_eq!(clean(raw, false), "py3.11-common: commands[0]> pytest");
        assert_eq!(
            clean(b"\x1b]8;;http://x\x07link\x1b]8;;\x1b\\", false),
            "link"
        );
        assert_eq!(clean(b"trailing \x1b[", false), "trailing ");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            clean(b"ok \xff\xfe bytes", false),
            "ok \u{fffd}\u{fffd} bytes"
        );
    }

    #[test]
    fn carriage_return_progress_keeps_last_segment() {
        assert_eq!(clean(b"10%\r50%\r100% done", false), "100% done");
    }

    #[test]
    fn markers() {
        assert_eq!(
            clean(
                b"2026-11-20T10:11:12.1Z ##[group]Run ./scripts/runtox.sh",
                false
            ),
            "Group(\"Run ./scripts/runtox.sh\")"
        );
        assert_eq!(clean(b"##[endgroup]", false), "EndGroup");
        assert_eq!(
            clean(b"##[error]Process completed with exit code 1.", false),
            "Error(\"Process completed with exit code 1.\")"
        );
    }
}
