//! The WAL checkpoint of a connection that writes mail, on a thread of
//! its own.
//!
//! A checkpoint copies what the WAL holds into the database file. SQLite
//! runs it inside the commit that crosses the autocheckpoint size, so the
//! writer stops for it: for an ingest that is every raw mail copied a
//! second time, into pages of the file the system must first provide, a
//! tenth of the whole run. Here a second connection checkpoints each batch
//! of messages (passive: it waits for nobody) while the writer gathers the
//! next one, and the writer waits for it before it begins that next batch,
//! so the WAL starts again from its first frame every batch. The WAL then
//! stays one batch long, its pages stay in memory, and writing to it costs
//! little; only the checkpoint writes new pages of the file.
//!
//! Without the thread (a database in memory, a second connection refused)
//! SQLite's own autocheckpoint does the work, as it does for every other
//! write of the connection: a batch is far below its size.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// The thread and the way to it.
#[derive(Debug)]
pub(super) struct Checkpointer {
    ask: mpsc::SyncSender<()>,
    done: mpsc::Receiver<()>,
    /// A checkpoint was asked for and is not known to be over.
    running: bool,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// A checkpointer of the database at `path`; `None` when no second
    /// connection or thread can be had.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        let (ask, asked) = mpsc::sync_channel::<()>(1);
        let (finished, done) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    // Busy only when another connection checkpoints; the
                    // WAL is then simply not restarted this time.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    if finished.send(()).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Checkpointer {
            ask,
            done,
            running: false,
            thread: Some(thread),
        })
    }

    /// A transaction was committed: copy it into the file.
    pub(super) fn committed(&mut self) {
        self.wait();
        self.running = self.ask.send(()).is_ok();
    }

    /// Wait for the checkpoint under way, if any: the next write then
    /// starts the WAL again.
    pub(super) fn wait(&mut self) {
        if std::mem::take(&mut self.running) {
            let _ = self.done.recv();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wait();
        // Closing the channel ends the thread.
        let (ask, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.ask, ask));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
