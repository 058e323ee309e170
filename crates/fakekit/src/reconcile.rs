//! Keeping what runs as it is wanted: a platform says which things it
//! wants (a dyno per formation entry, a container per pod), each under a
//! key; the reconciler stops what is no longer wanted, or wanted otherwise,
//! before it starts what is new, and leaves the rest running. Each thing
//! runs as a task of the platform's own that ends when its token is
//! cancelled; a crashed thing restarts after a [`Backoff`].

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The tasks running for what was wanted last, by key.
pub struct Reconciler<K, W> {
    running: HashMap<K, (W, CancellationToken, JoinHandle<()>)>,
}

impl<K: Eq + Hash + Clone, W: PartialEq> Default for Reconciler<K, W> {
    fn default() -> Self {
        Reconciler {
            running: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, W: PartialEq> Reconciler<K, W> {
    /// Makes what runs match `wants`: a task whose key is gone or whose
    /// want changed is cancelled and awaited first (the old stops before
    /// the new starts, as platforms do); then `start` runs each new want
    /// with a token that cancels it.
    pub async fn apply(
        &mut self,
        wants: Vec<(K, W)>,
        mut start: impl FnMut(&W, CancellationToken) -> JoinHandle<()>,
    ) {
        let stale: Vec<K> = self
            .running
            .iter()
            .filter(|(key, (want, _, _))| !wants.iter().any(|(k, w)| k == *key && w == want))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            let (_, cancel, task) = self.running.remove(&key).expect("listed");
            cancel.cancel();
            let _ = task.await;
        }
        for (key, want) in wants {
            if self.running.contains_key(&key) {
                continue;
            }
            let cancel = CancellationToken::new();
            let task = start(&want, cancel.clone());
            self.running.insert(key, (want, cancel, task));
        }
    }

    /// How many things run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}

/// How long a crashed thing waits before its next start: not at all the
/// first time, then `base` doubled per crash (from the second), at most
/// `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    crashes: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            crashes: 0,
        }
    }

    /// The wait before the restart after one more crash.
    pub fn after_crash(&mut self) -> Duration {
        let delay = match self.crashes {
            0 => Duration::ZERO,
            n => (self.base * 2u32.pow(n.min(16))).min(self.max),
        };
        self.crashes += 1;
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn the_changed_and_the_gone_stop_before_the_new_start() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut reconciler: Reconciler<&str, u32> = Reconciler::default();
        let start = |events: Arc<Mutex<Vec<String>>>| {
            move |want: &u32, cancel: CancellationToken| {
                let (events, want) = (events.clone(), *want);
                events.lock().unwrap().push(format!("start {want}"));
                tokio::spawn(async move {
                    cancel.cancelled().await;
                    events.lock().unwrap().push(format!("stop {want}"));
                })
            }
        };
        reconciler
            .apply(vec![("web.1", 1), ("worker.1", 1)], start(events.clone()))
            .await;
        assert_eq!(reconciler.len(), 2);
        // web.1 wanted otherwise (a new release), worker.1 no more.
        reconciler
            .apply(vec![("web.1", 2)], start(events.clone()))
            .await;
        let seen = events.lock().unwrap().clone();
        let position = |e: &str| seen.iter().position(|s| s == e).unwrap();
        assert!(position("stop 1") < position("start 2"), "{seen:?}");
        assert_eq!(seen.iter().filter(|e| e.starts_with("stop")).count(), 2);
        assert_eq!(reconciler.len(), 1);
        // Unchanged: nothing stops or starts.
        reconciler
            .apply(vec![("web.1", 2)], start(events.clone()))
            .await;
        assert_eq!(events.lock().unwrap().len(), seen.len());
    }

    #[test]
    fn backoff_restarts_at_once_then_waits_longer_up_to_a_limit() {
        let mut backoff = Backoff::new(Duration::from_secs(5), Duration::from_secs(300));
        let waits: Vec<u64> = (0..9).map(|_| backoff.after_crash().as_secs()).collect();
        assert_eq!(waits, [0, 10, 20, 40, 80, 160, 300, 300, 300]);
    }
}
