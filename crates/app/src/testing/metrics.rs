//! [`Recorded`]: a metrics recorder of a test's own, to ask what code recorded through the
//! `metrics` facade, without a global recorder (tests run side by side in one process).

use std::fmt;
use std::sync::atomic::Ordering;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};

/// A recorder that keeps every value (a scrape would not reset them), and questions about
/// what it recorded.
///
/// Handles registered inside [`Recorded::run`] record here for as long as they live; code that
/// registers at the moment it records (the store-error counter, an HTTP route seen the first
/// time) must record inside `run`. An async test can run its whole body there on a
/// current-thread runtime ([`Recorded::block_on`]).
pub struct Recorded {
    registry: Registry<Key, AtomicStorage>,
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded").finish_non_exhaustive()
    }
}

impl Default for Recorded {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorded {
    /// Nothing recorded yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            registry: Registry::atomic(),
        }
    }

    /// Runs `f` with this recorder as the current one.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self, f)
    }

    /// Runs `future` to completion on a current-thread runtime, with this recorder as the
    /// current one all along (every poll happens on this thread, inside [`Self::run`]).
    ///
    /// # Panics
    /// If the runtime cannot be built.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        #[allow(clippy::expect_used)] // test support: a runtime that cannot start ends the test
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime");
        self.run(|| runtime.block_on(future))
    }

    /// The value of the counter `name` with exactly these labels (in any order); 0 if it was
    /// never registered.
    #[must_use]
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.registry
            .get_counter_handles()
            .into_iter()
            .find(|(key, _)| is(key, name, labels))
            .map_or(0, |(_, value)| value.load(Ordering::SeqCst))
    }

    /// The value of the gauge `name` with exactly these labels.
    ///
    /// # Panics
    /// If no such gauge was registered.
    #[must_use]
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.registry
            .get_gauge_handles()
            .into_iter()
            .find(|(key, _)| is(key, name, labels))
            .map(|(_, value)| f64::from_bits(value.load(Ordering::SeqCst)))
            .unwrap_or_else(|| panic!("no gauge {name} {labels:?} was registered"))
    }

    /// Every value recorded in the histogram `name` with exactly these labels, in order; empty
    /// if it was never registered.
    #[must_use]
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.registry
            .get_histogram_handles()
            .into_iter()
            .find(|(key, _)| is(key, name, labels))
            .map(|(_, values)| values.data())
            .unwrap_or_default()
    }

    /// Every metric registered, as its name and its labels, for checks that no label holds
    /// what it must not.
    #[must_use]
    pub fn keys(&self) -> Vec<(String, Vec<(String, String)>)> {
        let mut keys: Vec<Key> = Vec::new();
        keys.extend(self.registry.get_counter_handles().into_keys());
        keys.extend(self.registry.get_gauge_handles().into_keys());
        keys.extend(self.registry.get_histogram_handles().into_keys());
        keys.into_iter()
            .map(|key| {
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                (key.name().to_owned(), labels)
            })
            .collect()
    }
}

/// Whether `key` is `name` with exactly `labels`, in any order.
fn is(key: &Key, name: &str, labels: &[(&str, &str)]) -> bool {
    key.name() == name
        && key.labels().count() == labels.len()
        && key
            .labels()
            .all(|label| labels.contains(&(label.key(), label.value())))
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |atomic| Counter::from_arc(atomic.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |atomic| Gauge::from_arc(atomic.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |bucket| Histogram::from_arc(bucket.clone()))
    }
}
