//! Splitting mbox files into messages: mboxo and mboxrd, LF and CRLF.
//!
//! This module owns the envelope format only; it does not look inside the
//! messages beyond their `>From ` escapes. [`split`] works on a slice (a
//! memory-mapped file is the main use) and hands out borrowed messages unless
//! one needs unescaping; [`Splitter`] does the same over any reader.
//!
//! A `From ` line starts a new message when it stands at the start of the
//! file or has the shape of an envelope line (`From sender Mon Jan  1
//! 00:00:00 2001`). Only when the file's first envelope line has no such
//! shape (`From sender` alone, as some writers put) does a `From ` line
//! after a blank line start one too: every real writer (public-inbox, an MTA,
//! `git format-patch`, mutt) dates its envelope lines, and then a body line
//! such as "From here on…" that a mail delivered unescaped (an MTA pipe)
//! stays in its mail, as git mailsplit keeps it. The blank line that mbox
//! writers put between messages is not part of either message. `>From `, `>>From `…
//! lose one `>` (mboxrd); in mboxo files this also restores the escaped
//! `From ` lines, the only ambiguity being an original `>From ` line, which is
//! rare and harmless. A file that does not start with `From ` is one message.

use std::borrow::Cow;
use std::io;

use memchr::memmem;

/// The messages of an mbox held in memory.
pub fn split(data: &[u8]) -> Split<'_> {
    let start = skip_blank_lines(data);
    if data[start..].starts_with(b"From ") {
        let first = line_end(data, start);
        Split {
            data,
            pos: first,
            whole: false,
            dated: is_envelope_line(trim_eol(&data[start..first])),
        }
    } else {
        Split {
            data,
            pos: if data.is_empty() { 0 } else { start },
            whole: true,
            dated: false,
        }
    }
}

/// Iterator over the messages of an in-memory mbox; see [`split`].
#[derive(Debug, Clone)]
pub struct Split<'a> {
    data: &'a [u8],
    /// Start of the next message.
    pos: usize,
    /// The data has no envelope lines: it is one message, unescaped as is.
    whole: bool,
    /// The first envelope line is dated: only dated lines separate.
    dated: bool,
}

impl<'a> Iterator for Split<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        if self.whole {
            self.whole = false;
            let rest = data.get(self.pos..).unwrap_or_default();
            self.pos = data.len();
            return (!rest.is_empty()).then_some(Cow::Borrowed(rest));
        }
        while self.pos < data.len() {
            let start = self.pos;
            let (end, next) = match find_separator(data, start, self.dated) {
                Some(sep) => (sep, line_end(data, sep)),
                None => (data.len(), data.len()),
            };
            self.pos = next;
            let message = strip_separator_blank(&data[start..end]);
            if !message.is_empty() {
                return Some(unescape(message));
            }
        }
        None
    }
}

/// The start of the next envelope line at or after `from`, which is itself a
/// line start.
fn find_separator(data: &[u8], from: usize, dated: bool) -> Option<usize> {
    if data[from..].starts_with(b"From ") && (!dated || is_separator(data, from, dated)) {
        return Some(from);
    }
    let hay = &data[from..];
    for hit in memmem::find_iter(hay, b"\nFrom ") {
        let line = from + hit + 1;
        if is_separator(data, line, dated) {
            return Some(line);
        }
    }
    None
}

/// Whether the `From ` line at `line` starts a message; see the module
/// documentation.
fn is_separator(data: &[u8], line: usize, dated: bool) -> bool {
    is_envelope_line(trim_eol(&data[line..line_end(data, line)]))
        || (!dated && after_blank_line(data, line))
}

/// A line without its LF or CRLF.
fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether the line starting at `line` follows an empty line.
fn after_blank_line(data: &[u8], line: usize) -> bool {
    let before = &data[..line];
    before.ends_with(b"\n\n") || before.ends_with(b"\n\r\n")
}

/// `From sender Mon Jan  1 00:00:00 2001`: an address-like word, then a
/// time of day. Used only where no blank line announces a new message.
fn is_envelope_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let mut words = rest
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let Some(_sender) = words.next() else {
        return false;
    };
    words.any(|w| {
        w.len() == 8
            && w[2] == b':'
            && w[5] == b':'
            && w.iter()
                .enumerate()
                .all(|(i, b)| i == 2 || i == 5 || b.is_ascii_digit())
    })
}

/// Whether git mailsplit takes `line` (its LF included) for the envelope
/// line of a new message, as its `is_from_line` decides: `From `, then, at
/// the last colon before the line's final byte, `d:dd` and `:dd`, and a
/// number above 90 (a year) three bytes after that colon. It looks at no
/// blank line before, so a commit message line of that shape cuts a mail
/// handed to plain `git am` in two.
pub fn is_git_from_line(line: &[u8]) -> bool {
    let len = line.len();
    if len < 20 || !line.starts_with(b"From ") {
        return false;
    }
    let mut colon = len - 2;
    loop {
        if colon < 5 {
            return false;
        }
        colon -= 1;
        if line[colon] == b':' {
            break;
        }
    }
    let digit = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
    let time = [colon - 4, colon - 2, colon - 1, colon + 1, colon + 2];
    if !time.into_iter().all(digit) {
        return false;
    }
    year(&line[(colon + 3).min(len)..]) > 90
}

/// Whether an mbox reader may take `line` for the start of a new message:
/// git mailsplit ([`is_git_from_line`]) or this module's splitters, which
/// look for a time of day instead of git's year.
pub fn may_split(line: &[u8]) -> bool {
    is_git_from_line(line) || is_envelope_line(trim_eol(line))
}

/// What C's `strtol(s, NULL, 10)` reads at the start of `s`, saturated.
fn year(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = s
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative {
        -n
    } else {
        n
    }
}

/// One past the end of the line starting at `start` (its LF included).
fn line_end(data: &[u8], start: usize) -> usize {
    memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1)
}

/// Offset of the first byte after any leading empty lines (LF or CRLF).
fn skip_blank_lines(data: &[u8]) -> usize {
    let mut i = 0;
    loop {
        if data[i..].starts_with(b"\n") {
            i += 1;
        } else if data[i..].starts_with(b"\r\n") {
            i += 2;
        } else {
            return i;
        }
    }
}

/// Drop the one blank line that the mbox writer put after the message.
fn strip_separator_blank(message: &[u8]) -> &[u8] {
    if message == b"\n" || message == b"\r\n" {
        return &[];
    }
    if let Some(m) = message.strip_suffix(b"\r\n\r\n") {
        return &message[..m.len() + 2];
    }
    if let Some(m) = message.strip_suffix(b"\n\n") {
        return &message[..m.len() + 1];
    }
    message
}

/// Undo mboxrd escaping: one `>` less on every `>+From ` line. Borrowed when
/// there is nothing to undo, which is the common case.
pub fn unescape(message: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memmem::find(message, b">From ") else {
        return Cow::Borrowed(message);
    };
    let mut out = Vec::with_capacity(message.len());
    let mut copied = 0;
    let mut search = first;
    while let Some(hit) = memmem::find(&message[search..], b">From ").map(|h| h + search) {
        // Walk back over the run of `>` to see whether it starts a line.
        let mut line = hit;
        while line > 0 && message[line - 1] == b'>' {
            line -= 1;
        }
        if line == 0 || message[line - 1] == b'\n' {
            out.extend_from_slice(&message[copied..line]);
            copied = line + 1;
        }
        search = hit + 6;
    }
    out.extend_from_slice(&message[copied..]);
    Cow::Owned(out)
}

/// Escape for mboxrd: one `>` more on every `>*From ` line.
pub fn escape(message: &[u8]) -> Cow<'_, [u8]> {
    if memmem::find(message, b"From ").is_none() {
        return Cow::Borrowed(message);
    }
    let mut out = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    Cow::Owned(out)
}

/// The messages of an mbox read from a stream, one owned message at a time.
/// Same rules as [`split`]; memory is bounded by the largest message plus
/// one read buffer.
///
/// It reads large blocks and looks for separators with the same `memmem`
/// search as [`split`], rather than line by line: ingest reads archives of
/// hundreds of megabytes through it.
#[derive(Debug)]
pub struct Splitter<R> {
    reader: R,
    /// Bytes read and not yet handed out. `buf[base]` is the LF that ends the
    /// envelope line before the current message, so the message starts at
    /// `base + 1` and the separator rules see the byte before it, as
    /// [`split`] does.
    buf: Vec<u8>,
    base: usize,
    /// No separator's LF lies in `base..scanned`: searched already.
    scanned: usize,
    started: bool,
    whole: bool,
    /// The first envelope line is dated: only dated lines separate.
    dated: bool,
    eof: bool,
    done: bool,
    /// The largest message handed out whole; see [`Splitter::with_limit`].
    limit: usize,
    /// What is kept of a message over `limit`.
    head: usize,
    /// The current message went over `limit`: its first `head` bytes, and
    /// how many bytes of it were dropped from the buffer since.
    cut: Option<(Vec<u8>, u64)>,
    /// The whole size of the last message handed out, when it was cut.
    last_cut: Option<u64>,
    /// See [`Splitter::single_verbatim`].
    single_verbatim: bool,
    /// Messages handed out so far.
    handed: u64,
}

/// Bytes read at a time.
const READ_BLOCK: usize = 256 << 10;

/// What a search of the buffer found.
enum Scan {
    /// A separator line starts here (and is complete).
    Found(usize),
    /// More bytes are needed to decide; searching may resume here.
    NeedMore(usize),
    /// End of input and no separator: the rest is the last message.
    End,
}

impl<R: io::Read> Splitter<R> {
    pub fn new(reader: R) -> Self {
        Splitter {
            reader,
            buf: Vec::new(),
            base: 0,
            scanned: 0,
            started: false,
            whole: false,
            dated: false,
            eof: false,
            done: false,
            limit: usize::MAX,
            head: 0,
            cut: None,
            last_cut: None,
            single_verbatim: false,
            handed: 0,
        }
    }

    /// Hand out the message of an input that holds only one after its
    /// envelope line exactly as it is, without undoing `>From ` escapes or
    /// dropping a final blank line: such input is what an MTA pipes (or
    /// `git format-patch` writes), and neither escapes.
    pub fn single_verbatim(mut self) -> Self {
        self.single_verbatim = true;
        self
    }

    /// Hand out no message over `limit` bytes whole: such a message comes
    /// out as its first `head` bytes, with its size in
    /// [`Splitter::last_cut`], and memory stays about `limit` plus a read
    /// block however long the input runs without a separator.
    pub fn with_limit(reader: R, limit: usize, head: usize) -> Self {
        let mut splitter = Splitter::new(reader);
        splitter.limit = limit;
        splitter.head = head.min(limit);
        splitter
    }

    /// The whole size in bytes of the message last handed out, when it was
    /// over the limit and only its head was handed out.
    pub fn last_cut(&self) -> Option<u64> {
        self.last_cut
    }

    /// Past the limit, keep the head of the message that starts at `start`
    /// and drop its bytes up to `keep_from`, which is where the separator
    /// search resumes less the bytes a blank-line check looks back at.
    fn cut_to(&mut self, start: usize, keep_from: usize) {
        if self.buf.len().saturating_sub(start) <= self.limit {
            return;
        }
        let keep_from = keep_from.max(start).min(self.buf.len());
        if self.cut.is_none() {
            let head = self.buf[start..(start + self.head).min(self.buf.len())].to_vec();
            self.cut = Some((head, 0));
        }
        if let Some((_, dropped)) = &mut self.cut {
            *dropped += (keep_from - start) as u64;
        }
        self.buf.drain(start..keep_from);
        self.scanned = self
            .scanned
            .saturating_sub(keep_from - start)
            .max(self.base);
    }

    /// Hand out the message in `start..end` of the buffer, or its head when
    /// it was cut.
    fn take(&mut self, start: usize, end: usize) -> Option<Vec<u8>> {
        let message = strip_separator_blank(&self.buf[start.min(end)..end]);
        match self.cut.take() {
            Some((head, dropped)) => {
                self.last_cut = Some(dropped + message.len() as u64);
                Some(head)
            }
            None if message.len() > self.limit => {
                self.last_cut = Some(message.len() as u64);
                Some(message[..self.head].to_vec())
            }
            None => {
                self.last_cut = None;
                (!message.is_empty()).then(|| unescape(message).into_owned())
            }
        }
    }

    /// Append one block; sets `eof` when the reader is exhausted.
    fn fill(&mut self) -> io::Result<()> {
        // Drop what was handed out before growing, so the buffer stays
        // about one message plus one block.
        if self.base > READ_BLOCK {
            self.buf.drain(..self.base);
            self.scanned -= self.base;
            self.base = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_BLOCK, 0);
        loop {
            match self.reader.read(&mut self.buf[start..]) {
                Ok(n) => {
                    self.buf.truncate(start + n);
                    self.eof = n == 0;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            }
        }
    }

    /// Decide between an mbox and a single mail once the first line is in.
    fn start(&mut self) -> io::Result<bool> {
        loop {
            let skip = skip_blank_lines(&self.buf);
            let rest = &self.buf[skip..];
            let decided = self.eof
                || memchr::memchr(b'\n', rest).is_some()
                || (rest.len() >= 5 && !rest.starts_with(b"From "));
            if decided {
                self.started = true;
                self.whole = !rest.starts_with(b"From ");
                if self.whole {
                    self.base = skip;
                } else {
                    let end = line_end(&self.buf, skip);
                    self.dated = is_envelope_line(trim_eol(&self.buf[skip..end]));
                    if end == self.buf.len() && !self.buf.ends_with(b"\n") {
                        // An envelope line and nothing after it.
                        self.done = true;
                        return Ok(false);
                    }
                    self.base = end - 1;
                }
                self.scanned = self.base;
                return Ok(true);
            }
            self.fill()?;
        }
    }

    /// Look for the next separator after the message starting at `base + 1`.
    fn find_next(&self) -> Scan {
        let buf = &self.buf;
        let from = self.base + 1;
        let complete = |line: usize| self.eof || memchr::memchr(b'\n', &buf[line..]).is_some();
        if self.scanned <= self.base {
            let rest = &buf[from.min(buf.len())..];
            if rest.len() < 5 && !self.eof && b"From ".starts_with(rest) {
                return Scan::NeedMore(self.base);
            }
            if rest.starts_with(b"From ") {
                if !complete(from) {
                    return Scan::NeedMore(self.base);
                }
                if !self.dated || is_separator(buf, from, self.dated) {
                    return Scan::Found(from);
                }
            }
        }
        let search = self.scanned.max(from);
        for hit in memmem::find_iter(&buf[search.min(buf.len())..], b"\nFrom ") {
            let lf = search + hit;
            let line = lf + 1;
            if !complete(line) {
                return Scan::NeedMore(lf);
            }
            if is_separator(buf, line, self.dated) {
                return Scan::Found(line);
            }
        }
        if self.eof {
            Scan::End
        } else {
            Scan::NeedMore(buf.len().saturating_sub(5).max(from))
        }
    }
}

impl<R: io::Read> Iterator for Splitter<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.started {
            match self.start() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        if self.whole {
            while !self.eof {
                if let Err(e) = self.fill() {
                    self.done = true;
                    return Some(Err(e));
                }
                let (start, len) = (self.base, self.buf.len());
                self.cut_to(start, len);
            }
            self.done = true;
            let (start, end) = (self.base, self.buf.len());
            self.last_cut = None;
            return match self.cut.take() {
                Some((head, dropped)) => {
                    self.last_cut = Some(dropped + (end - start) as u64);
                    Some(Ok(head))
                }
                None if end - start > self.limit => {
                    self.last_cut = Some((end - start) as u64);
                    Some(Ok(self.buf[start..start + self.head].to_vec()))
                }
                None => (start < end).then(|| Ok(self.buf[start..end].to_vec())),
            };
        }
        loop {
            match self.find_next() {
                Scan::Found(line) => {
                    let message = self.take(self.base + 1, line);
                    self.handed += u64::from(message.is_some());
                    self.base = line_end(&self.buf, line) - 1;
                    self.scanned = self.base;
                    if let Some(m) = message {
                        return Some(Ok(m));
                    }
                }
                Scan::NeedMore(resume) => {
                    self.scanned = resume;
                    // A separator is a line start after a blank line: the
                    // three bytes before `resume` may still be needed.
                    self.cut_to(self.base + 1, resume.saturating_sub(3));
                    if let Err(e) = self.fill() {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                Scan::End => {
                    self.done = true;
                    let start = (self.base + 1).min(self.buf.len());
                    let end = self.buf.len();
                    if self.single_verbatim && self.handed == 0 && self.cut.is_none() {
                        let message = &self.buf[start..end];
                        if message.len() <= self.limit {
                            return (!message.is_empty()).then(|| Ok(message.to_vec()));
                        }
                    }
                    return self.take(start, end).map(Ok);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<Vec<u8>> {
        split(data).map(Cow::into_owned).collect()
    }

    #[test]
    fn blank_line_between_messages_belongs_to_neither() {
        let m = all(b"From a\nA: 1\n\nbody\n\nFrom b\nB: 2\n\nx\n");
        assert_eq!(m, [b"A: 1\n\nbody\n".to_vec(), b"B: 2\n\nx\n".to_vec()]);
    }

    #[test]
    fn from_inside_a_paragraph_does_not_split() {
        let m = all(b"From a\nA: 1\n\nline\nFrom here on\n");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn with_dated_envelopes_an_undated_from_line_after_a_blank_stays_in_its_mail() {
        let data: &[u8] = b"From a@b Mon Sep 17 00:00:00 2001\nA: 1\n\nx\n\nFrom here on\n\nFrom c@d Mon Sep 17 00:00:00 2001\nB: 2\n";
        let m = all(data);
        assert_eq!(
            m,
            [b"A: 1\n\nx\n\nFrom here on\n".to_vec(), b"B: 2\n".to_vec()]
        );
        let from_reader: Vec<Vec<u8>> =
            Splitter::new(data).map(|m| m.unwrap_or_default()).collect();
        assert_eq!(from_reader, m);
    }

    #[test]
    fn a_single_message_can_be_kept_verbatim_and_an_mbox_is_still_unescaped() {
        let one: &[u8] = b"From a@b Mon Sep 17 00:00:00 2001\nA: 1\n\n>From x\n\n";
        let got: Vec<Vec<u8>> = Splitter::new(one)
            .single_verbatim()
            .map(|m| m.unwrap_or_default())
            .collect();
        assert_eq!(got, [b"A: 1\n\n>From x\n\n".to_vec()]);
        let two: &[u8] = b"From a@b Mon Sep 17 00:00:00 2001\nA: 1\n\n>From x\n\nFrom a@b Mon Sep 17 00:00:00 2001\nB: 2\n\n>From y\n";
        let got: Vec<Vec<u8>> = Splitter::new(two)
            .single_verbatim()
            .map(|m| m.unwrap_or_default())
            .collect();
        assert_eq!(got, all(two));
        assert_eq!(got[1], b"B: 2\n\nFrom y\n");
    }

    #[test]
    fn git_from_line_is_what_git_mailsplit_takes_for_an_envelope() {
        assert!(is_git_from_line(b"From 1234 Mon Sep 17 00:00:00 2001\n"));
        assert!(is_git_from_line(
            b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
        ));
        assert!(is_git_from_line(b"From then on 10:30:00 1999 it ran\n"));
        assert!(!is_git_from_line(b"From here on, it runs:\n"));
        assert!(!is_git_from_line(b"From 1234 Mon Sep 17 00:00:00 0001\n"));
        assert!(!is_git_from_line(b">From 1234 Mon Sep 17 00:00:00 2001\n"));
        assert!(!is_git_from_line(b"From a 1:00\n"));
    }

    #[test]
    fn envelope_shaped_line_splits_without_blank_line() {
        let m = all(b"From a\nA: 1\n\nx\nFrom b@c Mon Sep 17 00:00:00 2001\nB: 2\n");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn mboxrd_unescape_removes_one_quote_at_line_start_only() {
        let m = all(b"From a\nA: 1\n\n>From x\n>>From y\nz >From w\n");
        assert_eq!(m[0], b"A: 1\n\nFrom x\n>From y\nz >From w\n");
    }

    #[test]
    fn escape_then_unescape_is_identity() {
        let body = b">From a\nFrom b\nc From d\n";
        assert_eq!(&*unescape(&escape(body)), body);
    }

    #[test]
    fn crlf_mbox_splits_and_drops_separator_blank() {
        let m = all(b"From a\r\nA: 1\r\n\r\nx\r\n\r\nFrom b\r\nB: 2\r\n");
        assert_eq!(m, [b"A: 1\r\n\r\nx\r\n".to_vec(), b"B: 2\r\n".to_vec()]);
    }

    #[test]
    fn file_without_envelope_is_one_message() {
        assert_eq!(all(b"A: 1\n\nFrom x\n\nFrom y\n").len(), 1);
        assert!(all(b"").is_empty());
    }

    /// A reader that hands out `data` a few bytes at a time.
    struct Trickle<'a>(&'a [u8]);

    impl io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(7);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_message_over_the_limit_comes_out_as_its_head_with_its_size() {
        let big = format!("A: 1\n\n{}\n", "x".repeat(1000));
        let data = format!("From a\nA: 0\n\nsmall\n\nFrom b\n{big}\nFrom c\nC: 2\n\nlast\n");
        for trickle in [false, true] {
            let mut got = Vec::new();
            let reader: Box<dyn io::Read> = if trickle {
                Box::new(Trickle(data.as_bytes()))
            } else {
                Box::new(data.as_bytes())
            };
            let mut s = Splitter::with_limit(reader, 100, 10);
            while let Some(m) = s.next() {
                let m = String::from_utf8(m.unwrap_or_default()).unwrap_or_default();
                got.push((m, s.last_cut()));
            }
            assert_eq!(
                got,
                [
                    ("A: 0\n\nsmall\n".to_string(), None),
                    ("A: 1\n\nxxxx".to_string(), Some(big.len() as u64)),
                    ("C: 2\n\nlast\n".to_string(), None),
                ],
                "trickled: {trickle}"
            );
        }
    }

    #[test]
    fn one_endless_message_without_envelope_is_cut_too() {
        let data = vec![b'y'; 5000];
        let mut s = Splitter::with_limit(&data[..], 100, 10);
        assert_eq!(
            s.next().map(Result::unwrap_or_default),
            Some(vec![b'y'; 10])
        );
        assert_eq!(s.last_cut(), Some(5000));
        assert!(s.next().is_none());
    }

    #[test]
    fn reader_splitter_agrees_with_slice_splitter() {
        let data: &[u8] =
            b"\nFrom a\nA: 1\n\n>From x\n\nFrom b\nB: 2\nFrom c@d Mon Sep 17 00:00:00 2001\nC: 3\n";
        let from_reader: Vec<Vec<u8>> =
            Splitter::new(data).map(|m| m.unwrap_or_default()).collect();
        assert_eq!(from_reader, all(data));
    }
}
