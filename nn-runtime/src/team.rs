//! A fixed team of threads for fork-join work that allocates nothing per
//! call: [`Team::run`] runs `f(0)` on the caller and `f(1)`, …, `f(n − 1)`
//! on the team's parked threads, and returns when all are done.
//!
//! Why not rayon's pool: entering it from outside (`install`) pushes the
//! job onto a queue that allocates a new block every few dozen jobs, so
//! batch inference and training steps on two threads would not be
//! allocation-free (`tests/alloc.rs` saw 2 allocations in about one run in
//! three of 10 calls). Here a job is a pointer handed over under a mutex,
//! and threads wait on condition variables (futexes: no allocation).
#![allow(unsafe_code)]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

/// A job, its lifetime erased: valid while [`Team::run`] waits for it.
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync));

// SAFETY: the pointee is `Sync`, and `run` keeps it alive until every
// thread that received the pointer has finished with it.
unsafe impl Send for Job {}

struct Round {
    /// Bumped for each job; a thread runs each generation once.
    generation: u64,
    job: Option<Job>,
    /// Threads still running the current job.
    running: usize,
    /// What the first thread whose share of the current job panicked
    /// panicked with.
    panic: Option<Box<dyn Any + Send>>,
    quit: bool,
}

struct Shared {
    round: Mutex<Round>,
    start: Condvar,
    done: Condvar,
    /// `round.generation`, readable without the lock: threads spin on it
    /// for a while before sleeping on `start`.
    published: AtomicU64,
    /// `round.running`, readable without the lock: the caller spins on it
    /// before sleeping on `done`.
    remaining: AtomicUsize,
}

/// How long a thread spins for the next job, or the caller for the end of
/// one, before it sleeps on a condition variable. Waking a sleeping thread
/// took 110 µs a round trip on the 2-core machine this was measured on (a
/// virtual machine whose other core is shared), far more than a
/// convolution of one sample: a sample split across threads, which makes
/// a round trip for each convolution, was twice as slow as on one thread
/// until the threads spun.
const SPIN: std::time::Duration = std::time::Duration::from_micros(200);

/// Spins until `ready()` or until [`SPIN`] has passed.
fn spin_until(ready: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() <= SPIN {
        for _ in 0..64 {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Round> {
        // a panic inside a job is caught outside the lock, so the lock is
        // never poisoned while its data is inconsistent
        self.round.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The caller plus `size − 1` parked threads.
pub(crate) struct Team {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Team {
    /// A team of `size` (at least 1): the caller and `size − 1` threads.
    ///
    /// # Panics
    /// If the operating system refuses to start a thread.
    pub(crate) fn new(size: usize) -> Team {
        let shared = Arc::new(Shared {
            round: Mutex::new(Round {
                generation: 0,
                job: None,
                running: 0,
                panic: None,
                quit: false,
            }),
            start: Condvar::new(),
            done: Condvar::new(),
            published: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
        });
        // the team exists before its threads, so that if starting one
        // fails, dropping the team stops those already started
        let mut team = Team {
            shared,
            threads: Vec::new(),
        };
        for index in 1..size.max(1) {
            let shared = Arc::clone(&team.shared);
            let thread = std::thread::Builder::new()
                .name(format!("nn-team-{index}"))
                .spawn(move || work(&shared, index))
                .expect("a thread for the team");
            team.threads.push(thread);
        }
        team
    }

    /// Number of threads, the caller's included.
    pub(crate) fn size(&self) -> usize {
        self.threads.len() + 1
    }

    /// Runs `f(i)` for every `i < size()`, `f(0)` on the calling thread,
    /// and returns when all have returned. (`&mut self`: one job at a time.)
    ///
    /// # Panics
    /// If any `f(i)` panicked (after all have finished), with its payload.
    pub(crate) fn run(&mut self, f: &(dyn Fn(usize) + Sync)) {
        if self.threads.is_empty() {
            return f(0);
        }
        // SAFETY: only the lifetime is erased; `Wait` below does not let
        // this function return or unwind before every thread is done.
        let job: Job = Job(unsafe {
            std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const (dyn Fn(usize) + Sync)>(
                f,
            )
        });
        {
            let mut round = self.shared.lock();
            round.generation += 1;
            round.job = Some(job);
            round.running = self.threads.len();
            round.panic = None;
            self.shared
                .remaining
                .store(round.running, Ordering::Release);
            self.shared
                .published
                .store(round.generation, Ordering::Release);
        }
        self.shared.start.notify_all();

        /// Waits for the team on drop, so that a panic in `f(0)` cannot
        /// unwind past a job the other threads still use.
        struct Wait<'a>(&'a Shared);
        impl Drop for Wait<'_> {
            fn drop(&mut self) {
                spin_until(|| self.0.remaining.load(Ordering::Acquire) == 0);
                let mut round = self.0.lock();
                while round.running > 0 {
                    round = self
                        .0
                        .done
                        .wait(round)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                round.job = None;
            }
        }
        let wait = Wait(&self.shared);
        f(0);
        drop(wait);
        if let Some(payload) = self.shared.lock().panic.take() {
            panic::resume_unwind(payload);
        }
    }
}

thread_local! {
    /// The team [`lend`] lends this thread's kernels, or null.
    static LENT: core::cell::Cell<*mut Team> = const { core::cell::Cell::new(core::ptr::null_mut()) };
}

/// Lends this thread's kernels the team it holds when dropped, even after a
/// panic: what `lend` found lent before, or what `split` took out.
struct Restore(*mut Team);

impl Drop for Restore {
    fn drop(&mut self) {
        LENT.with(|lent| lent.set(self.0));
    }
}

/// Runs `f` with `team` lent to the kernels it calls on this thread, which
/// split one sample's work across the team ([`split`]).
pub(crate) fn lend<R>(team: &mut Team, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(LENT.with(|lent| lent.replace(team)));
    f()
}

/// Threads of the team lent to this thread ([`lend`]): 1 when none is.
pub(crate) fn lent_size() -> usize {
    let team = LENT.with(core::cell::Cell::get);
    if team.is_null() {
        return 1;
    }
    // SAFETY: `lend` holds the team's `&mut` while it is lent; `size`
    // reads only the number of its threads
    unsafe { (*team).size() }
}

/// Runs `f(i, n)` for each thread `i` of the `n` of the team lent to this
/// thread ([`lend`]), or `f(0, 1)` alone when none is: on a team thread,
/// inside another `split`, or outside `lend`.
pub(crate) fn split(f: &(dyn Fn(usize, usize) + Sync)) {
    let team = LENT.with(|lent| lent.replace(core::ptr::null_mut()));
    if team.is_null() {
        return f(0, 1);
    }
    let restore = Restore(team);
    // SAFETY: `lend` holds the team's `&mut` while it is lent, and it was
    // taken out above, so no other `split` on this thread reaches it
    // until `restore` puts it back.
    let team = unsafe { &mut *restore.0 };
    let n = team.size();
    team.run(&|i| f(i, n));
}

thread_local! {
    /// This thread's working buffer for its share of a sample ([`with_own`]).
    static OWN: core::cell::RefCell<Vec<f32>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's own working buffer, for its
/// share of one sample's work: grown to the largest share asked for, then
/// the same buffer call after call (no allocation in the steady state),
/// one buffer a thread whichever kernel asks. The values are whatever the
/// last share left.
///
/// # Panics
/// If called again from inside `f`.
pub(crate) fn with_own<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    OWN.with_borrow_mut(|own| {
        if own.len() < len {
            own.resize(len, 0.0);
        }
        f(&mut own[..len])
    })
}

/// Cuts `out` into one contiguous part per thread of the team lent to this
/// thread (whole `unit`s, as even as they go; a single part when none is
/// lent) and runs `f(first, part)` for each part on its thread, `first`
/// being the part's offset in `out`.
pub(crate) fn split_slice(out: &mut [f32], unit: usize, f: &(dyn Fn(usize, &mut [f32]) + Sync)) {
    let len = out.len();
    let parts = Parts(out.as_mut_ptr());
    split(&|i, n| {
        let range = share(len, unit, i, n);
        // SAFETY: the range lies in `out` and overlaps no other thread's
        // ([`share`]).
        let part =
            unsafe { core::slice::from_raw_parts_mut(parts.get().add(range.start), range.len()) };
        f(range.start, part);
    });
}

/// `out`'s start in [`split_slice`] and [`split_planes`], shared by the
/// threads that each write their own ranges of it.
struct Parts(*mut f32);

// SAFETY: each thread makes slices of its own ranges only, which are
// disjoint ([`share`]), and `split` returns after every thread is done
// with them.
unsafe impl Sync for Parts {}

impl Parts {
    /// The pointer (a method, so that closures capture the `Sync` whole).
    fn get(&self) -> *mut f32 {
        self.0
    }
}

/// Thread `i`'s range of `0..len` of `n` cut in whole `unit`s, as even as
/// they go, the last taking what is left: ranges that lie in `0..len`,
/// increase with `i` and never overlap.
fn share(len: usize, unit: usize, i: usize, n: usize) -> core::ops::Range<usize> {
    let units = len / unit.max(1);
    let start = (units * i / n * unit).min(len);
    let end = if i + 1 == n {
        len
    } else {
        (units * (i + 1) / n * unit).min(len)
    };
    start..end
}

/// One thread's part of [`split_planes`]: the same range of every plane.
pub(crate) struct PlaneRanges<'a> {
    ptr: *mut f32,
    planes: usize,
    plane: usize,
    range: core::ops::Range<usize>,
    _out: core::marker::PhantomData<&'a mut [f32]>,
}

impl PlaneRanges<'_> {
    /// The range, in floats from each plane's start.
    pub(crate) fn range(&self) -> core::ops::Range<usize> {
        self.range.clone()
    }

    /// This thread's range of plane `k`.
    ///
    /// # Panics
    /// If `k` is not a plane of the output.
    pub(crate) fn plane(&mut self, k: usize) -> &mut [f32] {
        assert!(k < self.planes, "plane {k} of {}", self.planes);
        // SAFETY: `split_planes` checked that the planes lie in its
        // output; the range lies in a plane and overlaps no other
        // thread's, and `&mut self` allows one slice at a time.
        unsafe {
            core::slice::from_raw_parts_mut(
                self.ptr.add(k * self.plane + self.range.start),
                self.range.len(),
            )
        }
    }
}

/// Cuts each of the planes of `plane` floats that `out` holds into one
/// range per thread of the team lent to this thread (whole `unit`s, as
/// even as they go, the same in every plane; a single range when none is
/// lent) and runs `f(i, n, part)` on thread `i` of `n`: for an output
/// `[C, H, W]`, each thread its own rows of every channel.
///
/// # Panics
/// If `out` is not a whole number of planes.
pub(crate) fn split_planes(
    out: &mut [f32],
    (plane, unit): (usize, usize),
    f: &(dyn Fn(usize, usize, PlaneRanges<'_>) + Sync),
) {
    assert!(
        plane > 0 && out.len().is_multiple_of(plane),
        "planes of {plane} floats in {}",
        out.len()
    );
    let planes = out.len() / plane;
    let parts = Parts(out.as_mut_ptr());
    split(&|i, n| {
        let part = PlaneRanges {
            ptr: parts.get(),
            planes,
            plane,
            range: share(plane, unit, i, n),
            _out: core::marker::PhantomData,
        };
        f(i, n, part);
    });
}

/// A team thread: waits for each new generation, runs its share, reports.
fn work(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        spin_until(|| shared.published.load(Ordering::Acquire) != seen);
        let job = {
            let mut round = shared.lock();
            while round.generation == seen && !round.quit {
                round = shared
                    .start
                    .wait(round)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if round.quit {
                return;
            }
            seen = round.generation;
            round.job
        };
        let result = match job {
            // SAFETY: `run` published this pointer for this generation and
            // waits for `running` to reach 0 before the job goes away.
            Some(Job(f)) => panic::catch_unwind(AssertUnwindSafe(|| unsafe { (*f)(index) })),
            None => Ok(()),
        };
        let mut round = shared.lock();
        if let Err(payload) = result {
            // the first panic goes to the caller; a later one is not
            // dropped here, where its destructor could panic in turn
            match round.panic {
                None => round.panic = Some(payload),
                Some(_) => std::mem::forget(payload),
            }
        }
        round.running -= 1;
        shared.remaining.store(round.running, Ordering::Release);
        if round.running == 0 {
            shared.done.notify_all();
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.lock().quit = true;
        self.shared.start.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_index_runs_once_per_call() {
        for size in [1, 2, 3, 5] {
            let mut team = Team::new(size);
            assert_eq!(team.size(), size);
            let counts: Vec<AtomicUsize> = (0..size).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..200 {
                team.run(&|i| {
                    counts[i].fetch_add(1, Ordering::SeqCst);
                });
            }
            for (i, c) in counts.iter().enumerate() {
                assert_eq!(c.load(Ordering::SeqCst), 200, "size {size}, index {i}");
            }
        }
    }

    #[test]
    fn a_panic_on_any_thread_reaches_the_caller_and_the_team_goes_on() {
        let mut team = Team::new(3);
        for bad in 0..3 {
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                team.run(&|i| {
                    if i == bad {
                        panic!("share {i}");
                    }
                })
            }));
            let message = r.expect_err("a panic").downcast::<String>().unwrap();
            assert_eq!(*message, format!("share {bad}"), "the share's own message");
        }
        let sum = AtomicUsize::new(0);
        team.run(&|i| {
            sum.fetch_add(i, Ordering::SeqCst);
        });
        assert_eq!(sum.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn jobs_reach_threads_that_spin_and_threads_that_sleep() {
        let mut team = Team::new(3);
        let count = AtomicUsize::new(0);
        // back to back (the threads still spinning), then after the threads
        // have gone to sleep, and a slow share that outlasts the caller's spin
        for pause in [0, 0, 2 * SPIN.as_micros() as u64, 0] {
            std::thread::sleep(std::time::Duration::from_micros(pause));
            team.run(&|i| {
                if i == 2 {
                    std::thread::sleep(2 * SPIN);
                }
                count.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(count.load(Ordering::SeqCst), 12);
    }

    #[test]
    fn shares_cover_the_range_in_whole_units_without_overlap() {
        for (len, unit) in [(0, 3), (10, 1), (32, 4), (33, 4), (7, 8), (1024, 32)] {
            for n in 1..=4 {
                let ranges: Vec<_> = (0..n).map(|i| share(len, unit, i, n)).collect();
                assert_eq!(ranges[0].start, 0, "{len}/{unit} on {n}");
                assert_eq!(ranges[n - 1].end, len, "{len}/{unit} on {n}");
                for (i, r) in ranges.iter().enumerate() {
                    assert!(r.start <= r.end, "{len}/{unit} on {n}: {r:?}");
                    if i + 1 < n {
                        assert_eq!(r.end, ranges[i + 1].start, "{len}/{unit} on {n}");
                        assert_eq!(r.end % unit, 0, "{len}/{unit} on {n}: {r:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn split_shares_out_only_while_a_team_is_lent() {
        let calls = AtomicUsize::new(0);
        let count = |i: usize, n: usize| {
            assert!(i < n);
            calls.fetch_add(n, Ordering::SeqCst);
        };
        split(&count);
        assert_eq!(calls.swap(0, Ordering::SeqCst), 1, "no team: one share");
        let mut team = Team::new(2);
        lend(&mut team, || {
            split(&count);
            assert_eq!(calls.swap(0, Ordering::SeqCst), 4, "two shares of two");
            // inside a share, a split runs whole on its thread
            split(&|_, _| split(&count));
            assert_eq!(calls.swap(0, Ordering::SeqCst), 2, "nested: one share each");
        });
        split(&count);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "lent no more");
    }
}
