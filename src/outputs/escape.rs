//! The one place untrusted text (test names, messages, log lines, file names)
//! is made safe for where it goes. Every renderer calls these; none writes
//! untrusted text any other way.
//!
//! - [`html`]: inert inside HTML and GitHub-flavoured markdown, in running text,
//!   table cells and `<pre>`/`<code>` blocks: no tags, no markdown syntax, no
//!   `@mention` or `#123` reference, no autolink.
//! - [`pre`]: inert inside a `<pre>` block (raw HTML to GitHub: only `&<>` matter).
//! - [`inline`]: [`html`] for one line: newlines and tabs become visible marks, length bounded.
//! - [`terminal`]: one printable line for stdout/stderr: control characters
//!   (ESC, CR, LF, ...) shown escaped, so nothing can move the cursor, forge a line,
//!   or start a workflow command.
//! - [`command_data`] / [`command_property`]: GitHub workflow-command escaping.

use std::borrow::Cow;
use std::fmt::Write;

use crate::model::truncate_str;

/// Zero-width space: breaks `@user` and `#123` so GitHub links neither.
const ZWSP: &str = "&#8203;";

/// Escapes `s` for HTML and GitHub markdown, keeping newlines.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    push_html(&mut out, s);
    out
}

/// Appends `s` escaped for HTML and markdown to `out`.
pub fn push_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Markdown syntax: emphasis, code, links, tables, headings, escapes.
            '`' => out.push_str("&#96;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '|' => out.push_str("&#124;"),
            '\\' => out.push_str("&#92;"),
            '~' => out.push_str("&#126;"),
            '!' => out.push_str("&#33;"),
            '$' => out.push_str("&#36;"),
            // `:` breaks autolinks (`https://`) and emoji shortcodes (`:x:`).
            ':' => out.push_str("&#58;"),
            // Mentions and issue references: keep the character, break the link.
            '@' => {
                out.push('@');
                out.push_str(ZWSP);
            }
            '#' => {
                out.push('#');
                out.push_str(ZWSP);
            }
            '\r' => {}
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            // Bidi overrides can make text read differently than it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Escapes `s` for the inside of a `<pre>` block, which GitHub renders as raw
/// HTML (no markdown, no mentions): only `&`, `<`, `>` and control characters
/// need care, so output stays readable in the summary's source too.
pub fn pre(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {}
            '\n' | '\t' => out.push(c),
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes `s` for a single line of markdown (a table cell, a list item, a
/// summary): newlines become `↵`, and the text is cut to `max` bytes first.
pub fn inline(s: &str, max: usize) -> String {
    let cut = truncate_str(s, max);
    let one_line: String = cut
        .chars()
        .map(|c| match c {
            '\n' => '↵',
            '\t' => ' ',
            c => c,
        })
        .collect();
    html(&one_line)
}

/// Makes `s` safe to print on one terminal line: control characters are shown
/// as escapes and the text is cut to `max` bytes. Printable ASCII within
/// `max`, as most test names and messages are, is given back as it is,
/// without a copy.
pub fn terminal(s: &str, max: usize) -> Cow<'_, str> {
    let printable = |t: &str| t.bytes().all(|b| (b' '..0x7f).contains(&b));
    if s.len() <= max && printable(s) {
        return Cow::Borrowed(s);
    }
    let cut = truncate_str(s, max);
    if printable(&cut) {
        return Cow::Owned(cut);
    }
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes a workflow command's message (`::error::<data>`).
pub fn command_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command's property value (`::error title=<value>::`).
pub fn command_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_inert() {
        let s = html("<img src=x onerror=alert(1)></details>");
        assert!(!s.contains('<') && !s.contains('>'), "{s}");
        let s = html("```\n| a | b |\n[x](javascript:y) **b** @user #123 https://x");
        for bad in ["```", "|", "[x]", "**", "@user", "#123", "https://"] {
            assert!(!s.contains(bad), "{bad} survived in {s}");
        }
    }

    #[test]
    fn pre_blocks_cannot_be_closed() {
        let s = pre("</pre></details><img src=x>\n\x1b[31mred");
        assert!(!s.contains('<'), "{s}");
        assert!(s.contains("\\u{1b}"));
    }

    #[test]
    fn inline_is_one_bounded_line() {
        let s = inline("a\nb\tc", 100);
        assert_eq!(s, "a↵b c");
        assert!(inline(&"x".repeat(1000), 10).len() <= 12);
    }

    #[test]
    fn terminal_shows_control_characters() {
        assert_eq!(
            terminal("a\n::error::x\x1b[2J", 100),
            "a\\n::error::x\\u{1b}[2J"
        );
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(command_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(command_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
