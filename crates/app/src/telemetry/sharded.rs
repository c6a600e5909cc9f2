//! [`ShardedRecorder`]: a recorder in front of another one (the binary's Prometheus exporter)
//! whose counters and histograms are written per thread and handed on to the inner recorder's
//! only when [`Flusher::flush`] runs: before each scrape, and at the exporter's upkeep.
//!
//! Why: a counter or a histogram the exporter hands out is one piece of memory that every core
//! writes. A cached `whoami` counts four such things (its verification, the cache hit, the
//! request and its duration), and on two cores each write pulled a cache line from the other
//! core: that was most of what metrics still cost the hot path (docs/performance.md). Here a
//! request writes only memory that its own thread owns, and the cores meet once per flush.
//!
//! - A counter is one atomic per shard, each on a cache line of its own; a flush moves every
//!   shard's count into the inner counter.
//! - A histogram is a buffer of samples per shard, behind a lock its thread alone takes but for
//!   a flush; a flush records the samples into the inner histogram, which buckets them as it
//!   would have. A buffer that reaches [`MAX_BUFFERED_SAMPLES`] is flushed by the thread that
//!   fills it, so memory stays bounded even if nothing else flushes.
//! - Gauges and descriptions go straight to the inner recorder: gauges are set rarely, and their
//!   value is the last one set, which shards could not tell.
//!
//! A scrape that flushes first sees every count and sample recorded before it, so nothing is
//! lost or counted twice; only the moment at which the exporter learns of them moves.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// Samples a histogram's shard holds before the thread that records the next one flushes the
/// shard itself (512 KiB of `f64`s).
pub const MAX_BUFFERED_SAMPLES: usize = 1 << 16;

/// The most shards a handle has, whatever the number of cores.
const MAX_SHARDS: usize = 64;

/// A recorder whose counters and histograms are per thread until flushed into `R`'s.
pub struct ShardedRecorder<R> {
    inner: R,
    handles: Arc<Handles>,
}

/// Flushes what a [`ShardedRecorder`]'s handles hold into the inner recorder's. Cheap to clone;
/// keep one where the scrape is served.
#[derive(Clone)]
pub struct Flusher {
    handles: Arc<Handles>,
}

impl<R> std::fmt::Debug for ShardedRecorder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedRecorder")
            .field("shards", &self.handles.shards)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Flusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flusher").finish_non_exhaustive()
    }
}

/// Every handle registered, by key, so that registering a key again (each thread registers the
/// HTTP routes it serves) shares the first one's shards.
struct Handles {
    shards: usize,
    counters: Mutex<HashMap<Key, Arc<ShardedCounter>>>,
    histograms: Mutex<HashMap<Key, Arc<ShardedHistogram>>>,
}

impl<R: Recorder> ShardedRecorder<R> {
    /// In front of `inner`, with as many shards per handle as the machine has cores (at least
    /// two, at most [`MAX_SHARDS`]), so that each of the runtime's worker threads, as many as
    /// the cores, writes a shard of its own.
    pub fn new(inner: R) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::with_shards(inner, cores)
    }

    /// In front of `inner`, with `shards` shards per handle (rounded up to a power of two,
    /// within 1 and [`MAX_SHARDS`]).
    pub fn with_shards(inner: R, shards: usize) -> Self {
        Self {
            inner,
            handles: Arc::new(Handles {
                shards: shards.clamp(1, MAX_SHARDS).next_power_of_two(),
                counters: Mutex::new(HashMap::new()),
                histograms: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// What flushes this recorder's handles, usable after the recorder is installed.
    #[must_use]
    pub fn flusher(&self) -> Flusher {
        Flusher {
            handles: Arc::clone(&self.handles),
        }
    }
}

impl Flusher {
    /// Hands every count and sample recorded so far to the inner recorder. Call it before each
    /// scrape is rendered, and periodically so that histogram samples do not pile up.
    pub fn flush(&self) {
        let counters: Vec<_> = lock(&self.handles.counters).values().cloned().collect();
        for counter in counters {
            counter.flush();
        }
        let histograms: Vec<_> = lock(&self.handles.histograms).values().cloned().collect();
        for histogram in histograms {
            histogram.flush();
        }
    }
}

impl<R: Recorder> Recorder for ShardedRecorder<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let mut counters = lock(&self.handles.counters);
        let counter = counters.entry(key.clone()).or_insert_with(|| {
            Arc::new(ShardedCounter {
                inner: self.inner.register_counter(key, metadata),
                shards: (0..self.handles.shards)
                    .map(|_| Padded(AtomicU64::new(0)))
                    .collect(),
            })
        });
        Counter::from_arc(Arc::clone(counter))
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        let mut histograms = lock(&self.handles.histograms);
        let histogram = histograms.entry(key.clone()).or_insert_with(|| {
            Arc::new(ShardedHistogram {
                inner: self.inner.register_histogram(key, metadata),
                shards: (0..self.handles.shards)
                    .map(|_| Padded(Mutex::new(Vec::new())))
                    .collect(),
            })
        });
        Histogram::from_arc(Arc::clone(histogram))
    }
}

/// A value alone on its cache line (128 bytes: the line and the one the prefetcher pairs it
/// with), so that two threads writing neighbouring shards do not share a line.
#[repr(align(128))]
struct Padded<T>(T);

struct ShardedCounter {
    inner: Counter,
    shards: Box<[Padded<AtomicU64>]>,
}

impl ShardedCounter {
    fn flush(&self) {
        for shard in &self.shards {
            let counted = shard.0.swap(0, Ordering::Relaxed);
            if counted > 0 {
                self.inner.increment(counted);
            }
        }
    }
}

impl CounterFn for ShardedCounter {
    fn increment(&self, value: u64) {
        self.shards[shard(self.shards.len())]
            .0
            .fetch_add(value, Ordering::Relaxed);
    }

    fn absolute(&self, value: u64) {
        // Counts not flushed yet happened before this value was set.
        self.flush();
        self.inner.absolute(value);
    }
}

struct ShardedHistogram {
    inner: Histogram,
    shards: Box<[Padded<Mutex<Vec<f64>>>]>,
}

impl ShardedHistogram {
    fn flush(&self) {
        for shard in &self.shards {
            self.flush_shard(&shard.0);
        }
    }

    /// Records `shard`'s samples into the inner histogram, outside the shard's lock, and gives
    /// the shard its buffer back (emptied, its capacity kept) if it is still empty.
    fn flush_shard(&self, shard: &Mutex<Vec<f64>>) {
        let mut samples = std::mem::take(&mut *lock(shard));
        if samples.is_empty() {
            return;
        }
        for sample in samples.drain(..) {
            self.inner.record(sample);
        }
        let mut buffer = lock(shard);
        if buffer.is_empty() {
            *buffer = samples;
        }
    }
}

impl HistogramFn for ShardedHistogram {
    fn record(&self, value: f64) {
        let shard = &self.shards[shard(self.shards.len())].0;
        let full = {
            let mut samples = lock(shard);
            samples.push(value);
            samples.len() >= MAX_BUFFERED_SAMPLES
        };
        if full {
            self.flush_shard(shard);
        }
    }

    fn record_many(&self, value: f64, count: usize) {
        // Rare (nothing in tollgate records many at once): straight to the inner histogram.
        self.inner.record_many(value, count);
    }
}

/// The shard of the current thread among `shards` (a power of two): threads take numbers in
/// the order they first record, so a runtime's worker threads, started together, take
/// different shards.
fn shard(shards: usize) -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: Cell<Option<usize>> = const { Cell::new(None) };
    }
    let number = NUMBER.with(|number| {
        number.get().unwrap_or_else(|| {
            let taken = NEXT.fetch_add(1, Ordering::Relaxed);
            number.set(Some(taken));
            taken
        })
    });
    number & (shards - 1)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while a shard is held leaves plain numbers behind, still worth keeping.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::metrics::Recorded;

    fn sharded(recorded: &Recorded, shards: usize) -> (ShardedRecorder<&Recorded>, Flusher) {
        let recorder = ShardedRecorder::with_shards(recorded, shards);
        let flusher = recorder.flusher();
        (recorder, flusher)
    }

    #[test]
    fn counts_reach_the_inner_counter_only_when_flushed_and_only_once() {
        let recorded = Recorded::new();
        let (recorder, flusher) = sharded(&recorded, 4);
        let counter = metrics::with_local_recorder(
            &recorder,
            || metrics::counter!("requests_total", "route" => "/a"),
        );
        counter.increment(2);
        counter.increment(3);
        assert_eq!(recorded.counter("requests_total", &[("route", "/a")]), 0);
        flusher.flush();
        assert_eq!(recorded.counter("requests_total", &[("route", "/a")]), 5);
        flusher.flush();
        assert_eq!(recorded.counter("requests_total", &[("route", "/a")]), 5);
        counter.increment(1);
        flusher.flush();
        assert_eq!(recorded.counter("requests_total", &[("route", "/a")]), 6);
    }

    #[test]
    fn counts_from_many_threads_and_many_registrations_of_a_key_add_up() {
        let recorded = Recorded::new();
        let (recorder, flusher) = sharded(&recorded, 2);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    // Each thread registers the key itself, as the HTTP metrics do.
                    let counter = metrics::with_local_recorder(
                        &recorder,
                        || metrics::counter!("requests_total", "route" => "/a"),
                    );
                    for _ in 0..1000 {
                        counter.increment(1);
                    }
                });
            }
        });
        flusher.flush();
        assert_eq!(recorded.counter("requests_total", &[("route", "/a")]), 8000);
        assert_eq!(recorded.counter("requests_total", &[("route", "/b")]), 0);
        assert_eq!(lock(&recorder.handles.counters).len(), 1);
    }

    #[test]
    fn an_absolute_value_comes_after_the_counts_before_it() {
        let recorded = Recorded::new();
        let (recorder, flusher) = sharded(&recorded, 2);
        let counter = metrics::with_local_recorder(&recorder, || metrics::counter!("c"));
        counter.increment(4);
        counter.absolute(10);
        counter.increment(1);
        flusher.flush();
        assert_eq!(recorded.counter("c", &[]), 11);
    }

    #[test]
    fn samples_reach_the_inner_histogram_when_flushed_from_every_thread() {
        let recorded = Recorded::new();
        let (recorder, flusher) = sharded(&recorded, 4);
        let histogram = metrics::with_local_recorder(
            &recorder,
            || metrics::histogram!("duration_seconds", "route" => "/a"),
        );
        std::thread::scope(|scope| {
            for thread in 0..3_u32 {
                let histogram = histogram.clone();
                scope.spawn(move || {
                    for _ in 0..10 {
                        histogram.record(f64::from(thread));
                    }
                });
            }
        });
        assert!(recorded
            .histogram("duration_seconds", &[("route", "/a")])
            .is_empty());
        flusher.flush();
        let mut samples = recorded.histogram("duration_seconds", &[("route", "/a")]);
        samples.sort_by(f64::total_cmp);
        let mut expected: Vec<f64> = (0..3_u32)
            .flat_map(|thread| [f64::from(thread); 10])
            .collect();
        expected.sort_by(f64::total_cmp);
        assert_eq!(samples, expected);
        flusher.flush();
        assert_eq!(
            recorded
                .histogram("duration_seconds", &[("route", "/a")])
                .len(),
            30
        );
    }

    #[test]
    fn a_full_buffer_is_flushed_by_the_thread_that_fills_it() {
        let recorded = Recorded::new();
        let (recorder, _flusher) = sharded(&recorded, 1);
        let histogram = metrics::with_local_recorder(&recorder, || metrics::histogram!("h"));
        for _ in 0..MAX_BUFFERED_SAMPLES - 1 {
            histogram.record(1.0);
        }
        assert!(recorded.histogram("h", &[]).is_empty());
        histogram.record(1.0);
        assert_eq!(recorded.histogram("h", &[]).len(), MAX_BUFFERED_SAMPLES);
    }

    #[test]
    fn gauges_go_straight_to_the_inner_recorder() {
        let recorded = Recorded::new();
        let (recorder, _flusher) = sharded(&recorded, 2);
        let gauge = metrics::with_local_recorder(&recorder, || metrics::gauge!("g"));
        gauge.set(3.0);
        assert_eq!(recorded.gauge("g", &[]), 3.0);
    }

    #[test]
    fn shards_are_a_power_of_two_within_bounds() {
        let recorded = Recorded::new();
        for (asked, got) in [(0, 1), (1, 1), (2, 2), (3, 4), (6, 8), (1000, MAX_SHARDS)] {
            assert_eq!(
                ShardedRecorder::with_shards(&recorded, asked)
                    .handles
                    .shards,
                got
            );
        }
    }
}
