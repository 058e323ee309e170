//! Logs as a platform keeps them: per stream (an app, a pod), the last
//! entries with the time each came, and a way to follow what comes next
//! (`heroku logs --tail`, `kubectl logs -f`). What an entry is and how it
//! is printed is the platform's own.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::sync::broadcast;

/// An entry and when it came.
pub type Stamped<L> = (SystemTime, L);

/// How many entries a follower may fall behind before it skips some.
const FOLLOW_BUFFER: usize = 1024;

struct Stream<L> {
    entries: VecDeque<Stamped<L>>,
    follow: broadcast::Sender<Stamped<L>>,
}

/// The logs of every stream, each bounded to its last `kept` entries.
pub struct LogBook<L> {
    kept: usize,
    streams: Mutex<HashMap<String, Stream<L>>>,
}

impl<L: Clone> LogBook<L> {
    pub fn new(kept: usize) -> LogBook<L> {
        LogBook {
            kept,
            streams: Mutex::new(HashMap::new()),
        }
    }

    fn with_stream<T>(&self, stream: &str, f: impl FnOnce(&mut Stream<L>) -> T) -> T {
        let mut streams = self.streams.lock().expect("log lock");
        let found = streams.entry(stream.to_string()).or_insert_with(|| Stream {
            entries: VecDeque::new(),
            follow: broadcast::channel(FOLLOW_BUFFER).0,
        });
        f(found)
    }

    /// Adds an entry to a stream, now; the oldest goes past `kept`.
    pub fn add(&self, stream: &str, entry: L) {
        let at = SystemTime::now();
        let kept = self.kept;
        self.with_stream(stream, |s| {
            if s.entries.len() >= kept {
                s.entries.pop_front();
            }
            s.entries.push_back((at, entry.clone()));
            let _ = s.follow.send((at, entry));
        });
    }

    /// The last `count` entries that `keep` keeps, oldest first, and a
    /// receiver of the entries that come after them (none missed between).
    pub fn read(
        &self,
        stream: &str,
        keep: impl Fn(&L) -> bool,
        count: usize,
    ) -> (Vec<Stamped<L>>, broadcast::Receiver<Stamped<L>>) {
        self.with_stream(stream, |s| {
            let matching: Vec<Stamped<L>> =
                s.entries.iter().filter(|(_, e)| keep(e)).cloned().collect();
            let skip = matching.len().saturating_sub(count);
            (matching[skip..].to_vec(), s.follow.subscribe())
        })
    }

    /// Forgets a stream (its app or pod is gone).
    pub fn forget(&self, stream: &str) {
        self.streams.lock().expect("log lock").remove(stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_keeps_its_last_entries_and_followers_get_the_next() {
        let book: LogBook<u32> = LogBook::new(3);
        for n in 1..=5 {
            book.add("loja", n);
        }
        book.add("blog", 100);
        let (last, mut follow) = book.read("loja", |n| n % 2 == 1, 10);
        let numbers: Vec<u32> = last.iter().map(|(_, n)| *n).collect();
        assert_eq!(numbers, [3, 5]);
        let (two, _) = book.read("loja", |_| true, 2);
        assert_eq!(two.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [4, 5]);
        book.add("loja", 6);
        assert_eq!(follow.recv().await.unwrap().1, 6);
        book.forget("loja");
        assert!(book.read("loja", |_| true, 10).0.is_empty());
        assert_eq!(book.read("blog", |_| true, 10).0.len(), 1);
    }
}
