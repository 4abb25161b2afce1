//! Telling waiting callers that holds changed.
//!
//! - The feed: every [`HoldChange`] goes to a broadcast channel read by the live event
//!   stream of approvers (`GET /v1/holds/events`). A reader that falls behind by more
//!   than [`FEED_CAPACITY`] changes is told to reload.
//! - Waiters: filters long-polling one hold (`GET /v1/filter/holds/{id}?wait_ms=`) wait
//!   on a channel of that hold only, so a decision wakes the filters of that hold and
//!   nobody else, however many holds are pending. The channel is dropped when the hold
//!   is decided (which wakes its waiters) or when its last waiter leaves.
//! - Shutdown: [`HoldFeed::shut_down`] ends event streams and long-polls at once, so a
//!   graceful shutdown does not wait for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use crate::hold_api::HoldChange;

/// Changes kept for slow readers of the feed.
pub const FEED_CAPACITY: usize = 1024;

/// The feed and the waiters. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HoldFeed {
    feed: broadcast::Sender<HoldChange>,
    waiters: Arc<Mutex<HashMap<String, watch::Sender<()>>>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for HoldFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl HoldFeed {
    /// A feed without readers.
    pub fn new() -> Self {
        Self { feed: broadcast::channel(FEED_CAPACITY).0, waiters: Arc::default(), closing: Arc::new(watch::channel(false).0) }
    }

    /// Ends every event stream and long-poll: the server is shutting down.
    pub fn shut_down(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when [`HoldFeed::shut_down`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Reads the changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<HoldChange> {
        self.feed.subscribe()
    }

    /// Sends `change` to the feed and, when `settled` (the hold left `pending`), wakes
    /// the hold's waiters.
    pub fn publish(&self, change: HoldChange, settled: bool) {
        if settled {
            // Dropping the sender wakes every receiver.
            self.lock().remove(&change.id);
        }
        // No reader is not an error.
        let _ = self.feed.send(change);
    }

    /// Starts waiting for hold `id` to settle. Subscribe before reading the hold's
    /// status, so a decision in between is not missed; call [`HoldFeed::leave`] after.
    pub fn wait_for(&self, id: &str) -> watch::Receiver<()> {
        self.lock().entry(id.to_owned()).or_insert_with(|| watch::channel(()).0).subscribe()
    }

    /// Forgets hold `id`'s channel when its last waiter left. Drop the receiver first.
    pub fn leave(&self, id: &str) {
        let mut waiters = self.lock();
        if waiters.get(id).is_some_and(|sender| sender.receiver_count() == 0) {
            waiters.remove(id);
        }
    }

    /// Holds with waiters, for tests.
    pub fn waited_holds(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<()>>> {
        self.waiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::hold_api::{EventKind, HoldStatus};

    fn change(id: &str, status: HoldStatus) -> HoldChange {
        HoldChange { id: id.into(), kind: EventKind::Approved, status, subject: "s".into(), target: "t".into(), actor: "a".into(), at: "now".into(), decided_by_groups: Vec::new() }
    }

    #[tokio::test]
    async fn settling_wakes_the_waiters_of_that_hold_only() {
        let feed = HoldFeed::new();
        let mut one = feed.wait_for("one");
        let mut two = feed.wait_for("two");
        let mut events = feed.subscribe();
        feed.publish(change("one", HoldStatus::Approved), true);
        tokio::time::timeout(Duration::from_secs(1), one.changed()).await.unwrap().unwrap_err();
        assert!(tokio::time::timeout(Duration::from_millis(50), two.changed()).await.is_err(), "`two` is still pending");
        assert_eq!(events.recv().await.unwrap().id, "one");
        drop(two);
        feed.leave("two");
        assert_eq!(feed.waited_holds(), 0);
    }
}
