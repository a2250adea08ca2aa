//! Reading on a second thread: while the parser works on one chunk of a
//! large file, the next chunks are being read. Used when there are fewer
//! files than cores, so a core would otherwise sit idle.
//!
//! Memory is bounded: at most [`IN_FLIGHT`] chunks of [`CHUNK`] bytes wait
//! between the two threads, and their buffers are reused.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Bytes per chunk handed from the reading thread to the parser.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the parser.
const IN_FLIGHT: usize = 4;

/// A reader whose reads happen on a thread of its own.
pub struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    /// Starts reading `source` on a new thread. Dropping the reader stops the
    /// thread after its current read.
    pub fn new<R: Read + Send + 'static>(mut source: R) -> io::Result<Self> {
        let (tx, chunks) = sync_channel(IN_FLIGHT);
        let (spare, spares) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
        std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || {
                loop {
                    let mut buf = spares
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                    let result = fill(&mut source, &mut buf);
                    // A short chunk is the last one; a send fails once the reader is gone.
                    let last = buf.len() < CHUNK;
                    if !buf.is_empty() && tx.send(Ok(buf)).is_err() {
                        break;
                    }
                    if let Err(e) = result {
                        let _ = tx.send(Err(e));
                        break;
                    }
                    if last {
                        break;
                    }
                }
            })?;
        Ok(Self {
            chunks,
            spare,
            current: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

/// Reads into `buf` (emptied first) until it holds [`CHUNK`] bytes or the
/// input ends; on an error, `buf` keeps what was read before it.
fn fill<R: Read>(source: &mut R, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    buf.resize(CHUNK, 0);
    let mut len = 0;
    while len < CHUNK {
        match source.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    }
    buf.truncate(len);
    Ok(())
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.current.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    // The reading thread may already have enough spares.
                    let _ = self.spare.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos.min(self.current.len())..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out a few bytes at a time, then fails if asked to.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() && self.fail_at_end {
                return Err(io::Error::other("disk gone"));
            }
            let n = out.len().min(7).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn hands_on_every_byte_in_order() {
        let data: Vec<u8> = (0..3 * CHUNK + 123).map(|i| (i * 31 % 251) as u8).collect();
        let source = Trickle {
            data: data.clone(),
            at: 0,
            fail_at_end: false,
        };
        let mut got = Vec::new();
        ReadAhead::new(source)
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data);
    }

    #[test]
    fn empty_input_is_empty() {
        let mut got = Vec::new();
        ReadAhead::new(io::empty())
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn a_read_error_reaches_the_parser_after_the_bytes_before_it() {
        let source = Trickle {
            data: b"<testsuite/>".to_vec(),
            at: 0,
            fail_at_end: true,
        };
        let mut r = ReadAhead::new(source).unwrap();
        let mut got = Vec::new();
        let err = r.read_to_end(&mut got).unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        // Every byte read before the error was handed on.
        assert_eq!(got, b"<testsuite/>");
        // And it stays at the end afterwards.
        assert_eq!(r.read(&mut [0; 8]).unwrap(), 0);
    }
}
