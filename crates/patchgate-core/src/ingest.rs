//! The ingest stage: sources → parsed messages → store → series assembly.
//!
//! Sources are streamed: an mbox is read in bounded chunks and cut at message
//! boundaries, a public-inbox archive through one `git cat-file --batch` per
//! epoch, so memory stays flat whatever the archive's size. Messages are
//! written in batches, one transaction each; a public-inbox cursor advances in
//! the same transaction as the messages it covers, so a crash never skips mail.
//! A message that cannot be parsed is stored with its reason and counted; it
//! never stops the run. Assembly then covers only the part of the archive
//! the new mails are connected to (see [`Ingester::finish`]).

mod ordered;

use ordered::{map_ordered, Stop};
use patchgate_git::InboxCursor;
use patchgate_mail::{mbox, Kind, Message};
use patchgate_store::{NewMessage, Store};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Messages written per transaction.
const BATCH: usize = 1000;
/// Read buffer of an mbox.
const READ_BUFFER: usize = 1 << 20;
/// Pending mails assembled together: enough that a first import runs few
/// rounds, few enough that a round's summaries stay a few megabytes.
pub const ASSEMBLE_CHUNK: usize = 20_000;
/// The largest message read: far above any patch mail (lore refuses mail
/// over a few MiB), low enough that one hostile entry cannot exhaust memory.
/// A larger one is kept as unusable, by its first [`OVERSIZE_HEAD`] bytes.
pub const MAX_MESSAGE: usize = 64 << 20;
/// What is kept of a message over [`MAX_MESSAGE`]: enough for its header,
/// so the reason can be shown against its Message-ID.
pub const OVERSIZE_HEAD: usize = 64 << 10;

/// What kind of source a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Mbox,
    Maildir,
    PublicInbox,
    Stdin,
}

/// A source ready to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub path: PathBuf,
}

impl SourceRef {
    /// The name messages are recorded under (`stdin` or the path).
    pub fn label(&self) -> String {
        match self.kind {
            SourceKind::Stdin => "stdin".into(),
            _ => self.path.display().to_string(),
        }
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a mail source: {why}")]
    Unknown { path: PathBuf, why: String },
    #[error("cannot read the public-inbox archive {path}")]
    Git {
        path: PathBuf,
        source: patchgate_git::GitError,
    },
    #[error("storing messages from {source_label}")]
    Store {
        source_label: String,
        #[source]
        error: patchgate_store::Error,
    },
}

/// Decide what `arg` names: `-` is stdin; a folder with `cur/` or `new/` is
/// a Maildir; a folder with `git/N.git` (or a bare repository itself) is a
/// public-inbox archive; a file or a pipe (`/dev/fd/N`) is an mbox. stdin,
/// files and pipes are read alike: an mbox when they start with a `From `
/// line (so an MTA's envelope line before one mail is an mbox of one), one
/// bare message otherwise, gunzipped first when gzip's magic bytes start
/// them.
pub fn detect(arg: &str) -> Result<SourceRef, IngestError> {
    if arg == "-" {
        return Ok(SourceRef {
            kind: SourceKind::Stdin,
            path: PathBuf::from("-"),
        });
    }
    let path = PathBuf::from(arg);
    let meta = std::fs::metadata(&path).map_err(|source| IngestError::Io {
        path: path.clone(),
        source,
    })?;
    let kind = if meta.is_file() || is_pipe(&meta) {
        SourceKind::Mbox
    } else if !meta.is_dir() {
        // A device such as /dev/zero would be read for ever.
        return Err(IngestError::Unknown {
            path,
            why: format!(
                "{}, not a mail source; give an mbox file (or a pipe), a Maildir, \
                 a public-inbox archive or - for stdin",
                file_kind(&meta)
            ),
        });
    } else if path.join("cur").is_dir() || path.join("new").is_dir() {
        SourceKind::Maildir
    } else if path.join("git").join("0.git").is_dir()
        || (path.join("HEAD").is_file() && path.join("objects").is_dir())
    {
        SourceKind::PublicInbox
    } else {
        return Err(IngestError::Unknown {
            path,
            why: "a folder that is neither a Maildir (cur/, new/) nor a public-inbox archive \
                  (git/0.git); give an mbox file, a Maildir, an archive or - for stdin"
                .into(),
        });
    };
    Ok(SourceRef { kind, path })
}

/// A FIFO, as `<(cat list.mbox)` gives (`/dev/fd/N`): read as an mbox
/// stream.
fn is_pipe(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

/// Where progress goes: the binary draws a bar, tests ignore it.
pub trait Progress {
    /// A source starts; `bytes` is its size when known.
    fn start(&mut self, source: &SourceRef, bytes: Option<u64>);
    /// `messages` more were read, covering `bytes` more of the source.
    fn advance(&mut self, messages: u64, bytes: u64);
    /// The source is done.
    fn finish(&mut self);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: &SourceRef, _: Option<u64>) {}
    fn advance(&mut self, _: u64, _: u64) {}
    fn finish(&mut self) {}
}

/// A message kept because it could not be used, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct Unusable {
    /// None for an entry that is no message at all (a FIFO in a Maildir).
    pub message_id: Option<String>,
    pub source: String,
    pub reason: String,
}

/// What one ingest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Messages read from the sources.
    pub read: u64,
    /// Messages not seen before.
    pub new: u64,
    /// Messages already stored (re-delivery, re-ingest).
    pub duplicates: u64,
    /// New messages that could not be read as mail, kept with their reason.
    pub unusable: Vec<Unusable>,
    /// New messages read despite defects (no Message-ID, bad charset…).
    pub with_problems: Vec<Unusable>,
    pub series_new: u64,
    pub series_updated: u64,
    pub series_superseded: u64,
    /// Series in the store after this ingest.
    pub series_total: u64,
}

/// Reads sources into a store; call [`Ingester::finish`] to assemble series.
///
/// Messages are parsed on [`Ingester::threads`] worker threads while the
/// calling thread reads the source and writes the store; they are stored in
/// the order the source holds them, so every result is what one thread
/// gives.
pub struct Ingester<'a> {
    store: &'a mut dyn Store,
    progress: &'a mut dyn Progress,
    batch: Vec<(Vec<u8>, Message)>,
    summary: Summary,
    threads: usize,
}

/// One entry of a source, as read, before parsing.
enum Raw {
    Mail {
        bytes: Vec<u8>,
        /// The whole size of a message over [`MAX_MESSAGE`], of which
        /// `bytes` is the head.
        cut: Option<u64>,
        /// The public-inbox cursor to store with the batch this message
        /// completes.
        cursor: Option<String>,
    },
    /// An entry that is no message (a FIFO in a Maildir).
    NotMail(Unusable),
}

impl Raw {
    fn weight(&self) -> usize {
        match self {
            Raw::Mail { bytes, .. } => bytes.len(),
            Raw::NotMail(_) => 0,
        }
    }

    fn parse(self) -> Parsed {
        match self {
            Raw::Mail { bytes, cut, cursor } => {
                let (message, size) = match cut {
                    Some(size) => (
                        patchgate_mail::parse_oversize(&bytes, size, MAX_MESSAGE as u64),
                        size,
                    ),
                    None => (patchgate_mail::parse(&bytes), bytes.len() as u64),
                };
                Parsed::Mail {
                    bytes,
                    message,
                    size,
                    cursor,
                }
            }
            Raw::NotMail(u) => Parsed::NotMail(u),
        }
    }
}

/// One entry of a source, parsed.
// Nearly every entry is a mail: boxing it would cost an allocation per
// message for the sake of the rare entry that is none.
#[allow(clippy::large_enum_variant)]
enum Parsed {
    Mail {
        bytes: Vec<u8>,
        message: Message,
        /// Bytes of the source it covers, for the progress bar.
        size: u64,
        cursor: Option<String>,
    },
    NotMail(Unusable),
}

/// Threads that parse by default: one per core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl std::fmt::Debug for Ingester<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingester")
            .field("pending", &self.batch.len())
            .field("summary", &self.summary)
            .finish()
    }
}

impl<'a> Ingester<'a> {
    pub fn new(store: &'a mut dyn Store, progress: &'a mut dyn Progress) -> Self {
        Ingester {
            store,
            progress,
            batch: Vec::with_capacity(BATCH),
            summary: Summary::default(),
            threads: default_threads(),
        }
    }

    /// Parse on `threads` worker threads (1: on the calling thread, between
    /// reads and writes). The stored messages and every result are the same
    /// whatever the number.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Read every message of one source into the store.
    pub fn ingest(&mut self, source: &SourceRef) -> Result<(), IngestError> {
        let label = source.label();
        match source.kind {
            SourceKind::Mbox => self.mbox(source, &label)?,
            SourceKind::Maildir => self.maildir(source, &label)?,
            SourceKind::PublicInbox => self.public_inbox(source, &label)?,
            SourceKind::Stdin => {
                self.progress.start(source, None);
                let stdin = std::io::stdin().lock();
                let reader = std::io::BufReader::with_capacity(READ_BUFFER, stdin);
                let (reader, _) = decompressed(reader).map_err(|e| io(&source.path, e))?;
                // One mail after an envelope line is an MTA's delivery: its
                // bytes are kept as delivered, so it is the same mail (and
                // has the same synthetic id) as in the list's archive.
                let messages = mbox::Splitter::with_limit(reader, MAX_MESSAGE, OVERSIZE_HEAD)
                    .single_verbatim();
                self.split(messages, &source.path, &label)?;
            }
        }
        self.flush(&label, None)?;
        self.progress.finish();
        Ok(())
    }

    /// Assemble the series the new mails touch and reconcile them with the
    /// stored series; `now` stamps the events this records.
    ///
    /// Only mails pending assembly (stored, not yet assembled: this run's
    /// and any a crashed run left) are seeds, taken [`ASSEMBLE_CHUNK`] at a
    /// time; each chunk is widened to the whole connected part of the
    /// archive it touches, assembled, and reconciled within that part. The
    /// answer is what assembling every stored mail would give, while memory
    /// is bounded by the chunk and the largest connected part, never by the
    /// archive, and one piped message costs only its own thread.
    pub fn finish(mut self, now: i64) -> Result<Summary, patchgate_store::Error> {
        loop {
            let seeds = self.store.pending_assembly(ASSEMBLE_CHUNK)?;
            if seeds.is_empty() {
                break;
            }
            let mails = self.store.assembly_closure(&seeds)?;
            tracing::debug!(
                seeds = seeds.len(),
                closure = mails.len(),
                "assembling a chunk"
            );
            let assembly = patchgate_series::assemble(&mails);
            // The scope holds the seeds too: a seed that is no assembly
            // mail any more must still lose its pending mark.
            let mut scope: Vec<String> = mails.into_iter().map(|m| m.id).collect();
            let in_closure: std::collections::HashSet<&str> =
                scope.iter().map(String::as_str).collect();
            let outside: Vec<String> = seeds
                .into_iter()
                .filter(|s| !in_closure.contains(s.as_str()))
                .collect();
            scope.extend(outside);
            let changes = self.store.apply_assembly_scoped(&assembly, &scope, now)?;
            // A connected part is assembled whole the first time a chunk
            // touches it, and its mails leave the pending list with it, so
            // no series is counted by two chunks.
            self.summary.series_new += changes.new as u64;
            self.summary.series_updated += changes.updated as u64;
            self.summary.series_superseded += changes.superseded as u64;
        }
        self.summary.series_total = self.store.count_series()?;
        Ok(self.summary)
    }

    fn mbox(&mut self, source: &SourceRef, label: &str) -> Result<(), IngestError> {
        let file = std::fs::File::open(&source.path).map_err(|e| io(&source.path, e))?;
        // A pipe (`<(zcat list.mbox.gz)`, /dev/fd/N) has no size to show.
        let size = file
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len());
        // Streaming keeps memory bounded by the largest message, whatever
        // the size of the archive.
        let reader = std::io::BufReader::with_capacity(READ_BUFFER, file);
        let (reader, gzip) = decompressed(reader).map_err(|e| io(&source.path, e))?;
        // The bar counts bytes of mail, which a compressed file's size
        // does not measure.
        self.progress.start(source, size.filter(|_| !gzip));
        let messages = mbox::Splitter::with_limit(reader, MAX_MESSAGE, OVERSIZE_HEAD);
        self.split(messages, &source.path, label)
    }

    /// Read the messages of an mbox stream, each up to [`MAX_MESSAGE`].
    fn split(
        &mut self,
        mut messages: mbox::Splitter<impl Read>,
        path: &Path,
        label: &str,
    ) -> Result<(), IngestError> {
        let input = || {
            let raw = messages.next()?;
            Some(raw.map(|bytes| Raw::Mail {
                bytes,
                cut: messages.last_cut(),
                cursor: None,
            }))
        };
        match self.parse_and_store(input, label, None) {
            Ok(()) => Ok(()),
            Err(Stop::Input(e)) => {
                // What was read before the fault (a gzip file cut short)
                // is stored, not lost with the error.
                self.flush(label, None)?;
                Err(io(path, e))
            }
            Err(Stop::Sink(e)) => Err(e),
        }
    }

    fn maildir(&mut self, source: &SourceRef, label: &str) -> Result<(), IngestError> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let dir = source.path.join(sub);
            if !dir.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
                let entry = entry.map_err(|e| io(&dir, e))?;
                let name = entry.file_name();
                // Maildir readers skip dot files: they are not messages.
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                files.push(entry.path());
            }
        }
        files.sort();
        self.progress.start(source, None);
        let mut files = files.into_iter();
        // One entry that is no message (a FIFO, a device, a folder, a
        // broken link) is reported and skipped; it never stops the rest.
        let input = || {
            let f = files.next()?;
            Some(Ok::<_, std::convert::Infallible>(
                match read_maildir_entry(&f) {
                    Ok(Entry::Whole(bytes)) => Raw::Mail {
                        bytes,
                        cut: None,
                        cursor: None,
                    },
                    Ok(Entry::Cut { head, size }) => Raw::Mail {
                        bytes: head,
                        cut: Some(size),
                        cursor: None,
                    },
                    Err(reason) => Raw::NotMail(Unusable {
                        message_id: None,
                        source: f.display().to_string(),
                        reason,
                    }),
                },
            ))
        };
        match self.parse_and_store(input, label, None) {
            Ok(()) => Ok(()),
            Err(Stop::Input(never)) => match never {},
            Err(Stop::Sink(e)) => Err(e),
        }
    }

    fn public_inbox(&mut self, source: &SourceRef, label: &str) -> Result<(), IngestError> {
        let git = |error| IngestError::Git {
            path: source.path.clone(),
            source: error,
        };
        let inbox = patchgate_git::PublicInbox::open(&source.path)
            .map_err(git)?
            .limit(MAX_MESSAGE, OVERSIZE_HEAD);
        // One cursor per archive: the last commit read in each epoch.
        let key = format!("public-inbox:{}", inbox.dir().display());
        let since: InboxCursor = match self.store.cursor(&key).map_err(|e| store_err(label, e))? {
            // An unreadable cursor means reading the archive again, which is
            // safe: ingest is idempotent.
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => InboxCursor::default(),
        };
        self.progress.start(source, None);
        let mut messages = inbox.messages_since(&since);
        let mut moved = false;
        // The batch is written whenever it fills, with the cursor as it
        // stood after its last message: this thread reads ahead of the
        // store, so the cursor travels with that message.
        let mut queued = self.batch.len();
        let input = || {
            let item = match messages.next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            moved = true;
            queued += 1;
            let cursor = (queued >= BATCH).then(|| {
                queued = 0;
                cursor_text(messages.cursor())
            });
            Some(Ok(Raw::Mail {
                bytes: item.raw,
                cut: item.cut,
                cursor,
            }))
        };
        match self.parse_and_store(input, label, Some(&key)) {
            Ok(()) => {}
            Err(Stop::Input(e)) => {
                // What was read before git failed is stored under this
                // archive's name (not the next source's), without moving
                // the cursor past it: the next run reads it again, which
                // changes nothing.
                self.flush(label, None)?;
                return Err(git(e));
            }
            Err(Stop::Sink(e)) => return Err(e),
        }
        // Deletions alone move the cursor too; record it with the last batch.
        if moved || messages.cursor() != &since {
            let cursor = cursor_text(messages.cursor());
            self.flush(label, Some((&key, &cursor)))?;
        }
        Ok(())
    }

    /// Parse what `input` reads (on the worker threads) and queue it in
    /// the source's order, writing each full batch; with `cursor_key` a
    /// batch is written when a message brings its cursor.
    fn parse_and_store<E>(
        &mut self,
        input: impl FnMut() -> Option<Result<Raw, E>>,
        label: &str,
        cursor_key: Option<&str>,
    ) -> Result<(), Stop<E, IngestError>> {
        map_ordered(self.threads, input, Raw::weight, Raw::parse, |parsed| {
            self.queue(parsed, label, cursor_key)
        })
    }

    fn queue(
        &mut self,
        parsed: Parsed,
        label: &str,
        cursor_key: Option<&str>,
    ) -> Result<(), IngestError> {
        let (bytes, message, size, cursor) = match parsed {
            Parsed::Mail {
                bytes,
                message,
                size,
                cursor,
            } => (bytes, message, size, cursor),
            Parsed::NotMail(u) => {
                self.summary.unusable.push(u);
                return Ok(());
            }
        };
        self.batch.push((bytes, message));
        self.summary.read += 1;
        match (cursor_key, cursor) {
            (Some(key), Some(cursor)) => self.flush(label, Some((key, &cursor)))?,
            (None, _) if self.batch.len() >= BATCH => self.flush(label, None)?,
            _ => {}
        }
        self.progress.advance(1, size);
        Ok(())
    }

    fn flush(&mut self, label: &str, cursor: Option<(&str, &str)>) -> Result<(), IngestError> {
        if self.batch.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let rows: Vec<NewMessage<'_>> = self
            .batch
            .iter()
            .map(|(raw, message)| NewMessage {
                raw,
                message,
                source: label,
            })
            .collect();
        let stats = self
            .store
            .insert_messages_with_cursor(&rows, cursor)
            .map_err(|error| store_err(label, error))?;
        self.summary.new += stats.inserted as u64;
        self.summary.duplicates += stats.duplicates as u64;
        for id in stats.unusable_ids {
            if let Some((_, m)) = self.batch.iter().find(|(_, m)| m.id == id) {
                let kept = Unusable {
                    message_id: Some(id),
                    source: label.to_string(),
                    reason: m.problems.join("; "),
                };
                if m.kind == Kind::Unusable {
                    self.summary.unusable.push(kept);
                } else {
                    self.summary.with_problems.push(kept);
                }
            }
        }
        self.batch.clear();
        Ok(())
    }
}

/// The bytes of `reader`, gunzipped when they start with gzip's magic bytes
/// (lore serves `t.mbox.gz`), and whether they were. Several gzip members
/// one after the other are read as one stream, as `zcat` does.
fn decompressed<'r>(mut reader: impl Read + 'r) -> std::io::Result<(Box<dyn Read + 'r>, bool)> {
    let mut magic = Vec::with_capacity(2);
    // A pipe may hand out one byte at a time.
    while magic.len() < 2 {
        let mut byte = [0u8; 1];
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => magic.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let gzip = magic == [0x1f, 0x8b];
    let whole = std::io::Cursor::new(magic).chain(reader);
    Ok(if gzip {
        (Box::new(flate2::read::MultiGzDecoder::new(whole)), true)
    } else {
        (Box::new(whole), false)
    })
}

/// What was read of one message.
#[derive(Debug)]
enum Entry {
    Whole(Vec<u8>),
    /// Over [`MAX_MESSAGE`]: its first bytes and its whole size.
    Cut {
        head: Vec<u8>,
        size: u64,
    },
}

/// Read one Maildir entry, or say why it is no message. Only a regular file
/// is read (a symbolic link to one too): a FIFO would block for ever and a
/// device such as `/dev/zero` never ends. The type is checked before the
/// open, so nothing else is even opened, and again on the open file, so an
/// entry swapped meanwhile is not read either.
fn read_maildir_entry(path: &Path) -> Result<Entry, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let fix = "move it out of the Maildir: cur/ and new/ hold one message file each";
    let link = std::fs::symlink_metadata(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = if link.file_type().is_symlink() {
        std::fs::metadata(path).map_err(|e| {
            format!("a symbolic link that leads to no file: {e}; remove it or make it point at a message file")
        })?
    } else {
        link
    };
    if !meta.is_file() {
        return Err(format!("{}, not a message file; {fix}", file_kind(&meta)));
    }
    // O_NONBLOCK: should the entry become a FIFO after the check, opening
    // it does not wait for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be opened: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{}, not a message file; {fix}", file_kind(&meta)));
    }
    let mut raw = Vec::new();
    file.take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if raw.len() > MAX_MESSAGE {
        raw.truncate(OVERSIZE_HEAD);
        return Ok(Entry::Cut {
            head: raw,
            size: meta.len().max(MAX_MESSAGE as u64 + 1),
        });
    }
    Ok(Entry::Whole(raw))
}

/// What a file that is no regular file is, in a user's words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

fn cursor_text(cursor: &InboxCursor) -> String {
    serde_json::to_string(cursor).unwrap_or_default()
}

fn io(path: &Path, source: std::io::Error) -> IngestError {
    IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn store_err(label: &str, error: patchgate_store::Error) -> IngestError {
    IngestError::Store {
        source_label: label.to_string(),
        error,
    }
}
