//! Work on worker threads, results in the input's order.
//!
//! Ingest reads and stores on the calling thread and parses on the others.
//! The answer must be the one a single thread gives, so results come back
//! strictly in input order: the input is cut into numbered chunks, any
//! worker takes the next chunk from one queue, and the caller hands the
//! results to its sink by number, keeping those that came early. While the
//! chunk it needs next is not done, the caller works on a queued chunk
//! itself instead of waiting. At most [`WINDOW`] chunks per worker are in
//! flight, so memory stays a few chunks, whatever the length of the input.

use std::collections::BTreeMap;
use std::sync::{mpsc, Mutex, PoisonError};

/// Items a chunk holds at most: enough that handing a chunk over costs
/// little beside parsing it, few enough that workers start early.
const CHUNK_ITEMS: usize = 32;
/// Bytes a chunk holds at most (by the caller's weight): a chunk of large
/// mails is handed over early so memory in flight stays small.
const CHUNK_BYTES: usize = 256 << 10;
/// Chunks in flight per worker: one being worked on, the others queued,
/// so a worker never waits while the caller is busy storing.
const WINDOW: usize = 4;

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Stop<I, S> {
    /// The input failed; every item before the failure went to the sink.
    Input(I),
    /// The sink failed; items after the one it refused were dropped.
    Sink(S),
}

/// Feed the items of `input` through `work` on `threads` worker threads
/// and hand each result to `sink` on the calling thread, in input order.
/// With one thread or fewer everything runs on the calling thread, item by
/// item, which is the order the parallel run reproduces exactly.
pub(crate) fn map_ordered<T, U, I, S>(
    threads: usize,
    mut input: impl FnMut() -> Option<Result<T, I>>,
    weight: impl Fn(&T) -> usize,
    work: impl Fn(T) -> U + Sync,
    mut sink: impl FnMut(U) -> Result<(), S>,
) -> Result<(), Stop<I, S>>
where
    T: Send,
    U: Send,
{
    if threads <= 1 {
        while let Some(item) = input() {
            sink(work(item.map_err(Stop::Input)?)).map_err(Stop::Sink)?;
        }
        return Ok(());
    }
    let (give, queue) = mpsc::channel::<(usize, Vec<T>)>();
    let queue = Mutex::new(queue);
    let (answer, answers) = mpsc::channel::<(usize, Vec<U>)>();
    let work = &work;
    let queue = &queue;
    let run = |chunk: Vec<T>| -> Vec<U> { chunk.into_iter().map(work).collect() };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let answer = answer.clone();
            scope.spawn(move || loop {
                let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                // The caller is done (the input ended or the sink failed).
                let Ok((k, chunk)) = job else {
                    return;
                };
                if answer.send((k, run(chunk))).is_err() {
                    return;
                }
            });
        }
        drop(answer);
        // The channels are unbounded; the window bounds them. Dropping
        // `give` on return ends the workers.
        let give = give;
        let mut early: BTreeMap<usize, Vec<U>> = BTreeMap::new();
        let mut sent = 0usize;
        let mut taken = 0usize;
        // Hand chunk `taken` to the sink. False when the workers are gone:
        // one panicked, and the scope re-raises its panic once every
        // thread is joined.
        let mut take_one = |taken: &mut usize| -> Result<bool, S> {
            loop {
                if let Some(done) = early.remove(taken) {
                    *taken += 1;
                    for u in done {
                        sink(u)?;
                    }
                    return Ok(true);
                }
                match answers.try_recv() {
                    Ok((k, done)) => {
                        early.insert(k, done);
                        continue;
                    }
                    Err(mpsc::TryRecvError::Disconnected) => return Ok(false),
                    Err(mpsc::TryRecvError::Empty) => {}
                }
                // Rather than wait, work on the oldest queued chunk here.
                let job = queue.try_lock().ok().and_then(|q| q.try_recv().ok());
                match job {
                    Some((k, chunk)) => {
                        early.insert(k, run(chunk));
                    }
                    None => match answers.recv() {
                        Ok((k, done)) => {
                            early.insert(k, done);
                        }
                        Err(_) => return Ok(false),
                    },
                }
            }
        };
        let mut chunk = Vec::with_capacity(CHUNK_ITEMS);
        let mut bytes = 0;
        let failure = loop {
            let (failure, end) = match input() {
                Some(Ok(item)) => {
                    bytes += weight(&item);
                    chunk.push(item);
                    if chunk.len() < CHUNK_ITEMS && bytes < CHUNK_BYTES {
                        continue;
                    }
                    (None, false)
                }
                Some(Err(e)) => (Some(e), true),
                None => (None, true),
            };
            if !chunk.is_empty() {
                if sent - taken == WINDOW * threads && !take_one(&mut taken).map_err(Stop::Sink)? {
                    return Ok(());
                }
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ITEMS));
                bytes = 0;
                // The queue outlives the scope: the send cannot fail.
                let _ = give.send((sent, full));
                sent += 1;
            }
            if end {
                break failure;
            }
        };
        while taken < sent {
            if !take_one(&mut taken).map_err(Stop::Sink)? {
                return Ok(());
            }
        }
        failure.map_or(Ok(()), |e| Err(Stop::Input(e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(threads: usize, n: usize, fail_input_at: Option<usize>) -> (Vec<u64>, Option<String>) {
        let mut next = 0;
        let mut out = Vec::new();
        let r = map_ordered(
            threads,
            || {
                let i = next;
                next += 1;
                if Some(i) == fail_input_at {
                    return Some(Err(format!("input {i}")));
                }
                (i < n).then_some(Ok(i as u64))
            },
            |i| (*i as usize % 7) << 16,
            // Uneven work, so workers finish out of order.
            |i| {
                if i % 5 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                i * 3
            },
            |u| -> Result<(), String> {
                out.push(u);
                Ok(())
            },
        );
        let stop = match r {
            Ok(()) => None,
            Err(Stop::Input(e)) => Some(e),
            Err(Stop::Sink(e)) => Some(format!("sink {e}")),
        };
        (out, stop)
    }

    #[test]
    fn results_come_in_input_order_whatever_the_threads() {
        let one = run(1, 1000, None);
        assert_eq!(one.0, (0..1000).map(|i| i * 3).collect::<Vec<u64>>());
        for threads in [2, 3, 8] {
            assert_eq!(run(threads, 1000, None), one, "{threads} threads");
        }
        assert_eq!(run(4, 0, None), (vec![], None));
    }

    #[test]
    fn an_input_failure_comes_after_everything_before_it() {
        for threads in [1, 2, 5] {
            let (out, stop) = run(threads, 1000, Some(333));
            assert_eq!(out, (0..333).map(|i| i * 3).collect::<Vec<u64>>());
            assert_eq!(stop.as_deref(), Some("input 333"));
        }
    }

    #[test]
    fn a_sink_failure_stops_the_run() {
        for threads in [1, 2, 4] {
            let mut seen = 0;
            let mut next = 0u64;
            let r = map_ordered(
                threads,
                || {
                    next += 1;
                    (next <= 10_000).then_some(Ok::<u64, ()>(next))
                },
                |_| 1,
                |i| i,
                |i| {
                    seen += 1;
                    if i == 100 {
                        Err(i)
                    } else {
                        Ok(())
                    }
                },
            );
            assert!(matches!(r, Err(Stop::Sink(100))), "{threads} threads");
            assert_eq!(seen, 100);
        }
    }
}
