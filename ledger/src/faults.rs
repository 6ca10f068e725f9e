//! IO fault injection and tracing: a thin layer under the ledger's own file operations.
//!
//! Every write, fsync, rename, file or folder creation that the ledger performs itself
//! (the head file, the marker and lock files, evidence blobs, export bundles, the
//! store's fsyncs and the calls into sled that write) goes through [`io`] or
//! [`before`]/[`after`] with an [`Op`] and a short name of its target. Nothing happens
//! unless a test installs an [`Injector`] on its own thread: then every operation is
//! recorded in order, and the injector can make the Nth matching operation (or the
//! Nth and every later one) fail with an IO error of its choosing (EIO, ENOSPC …)
//! instead of running it.
//!
//! The state is thread-local, so tests running in parallel do not see each other's
//! faults (a test can also hand an injector to a thread it does not run, by name,
//! with [`install_for_thread`]), and the cost when no injector is installed is one thread-local flag read
//! per file operation (next to an fsync, nothing). sled's own background threads are
//! not traced; what sled writes on the caller's thread is covered at the boundary of
//! the calls that make it write (`apply_batch`, `flush`).

use std::cell::{Cell, RefCell};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A kind of file operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Creating a file or folder (an entry in a directory).
    Create,
    /// Writing bytes (to a file, or handing a batch to the storage engine).
    Write,
    /// fsync / fdatasync of a file or a directory.
    Fsync,
    /// Renaming a file or folder into place.
    Rename,
}

/// One traced operation: what, on which target, and whether it was failed on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traced {
    pub op: Op,
    pub target: String,
    /// True if the injector failed this operation instead of running it.
    pub injected: bool,
}

/// When the injector fails operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Never: trace only.
    Never,
    /// The Nth matching operation (1-based) fails once; later ones run.
    Once(u64),
    /// The Nth matching operation and every later matching one fail.
    From(u64),
}

/// A fault plan for the current thread.
#[derive(Debug, Clone)]
pub struct Injector {
    mode: Mode,
    /// The kinds of operation that count and can fail; empty means all.
    ops: Vec<Op>,
    /// Only operations whose target contains this text count (empty: all).
    target: String,
    /// The raw OS error to inject (libc EIO = 5, ENOSPC = 28).
    errno: i32,
}

/// EIO: what a failed write or fsync reports.
pub const EIO: i32 = 5;
/// ENOSPC: no space left on device.
pub const ENOSPC: i32 = 28;

impl Injector {
    /// Records operations and fails none.
    pub fn trace() -> Injector {
        Injector {
            mode: Mode::Never,
            ops: Vec::new(),
            target: String::new(),
            errno: EIO,
        }
    }

    /// Fails matching operations as `mode` says, with EIO.
    pub fn fail(mode: Mode) -> Injector {
        Injector {
            mode,
            ..Injector::trace()
        }
    }

    /// Counts and fails only these kinds of operation.
    pub fn only(mut self, ops: &[Op]) -> Injector {
        self.ops = ops.to_vec();
        self
    }

    /// Counts and fails only operations whose target contains `text`.
    pub fn on_target(mut self, text: &str) -> Injector {
        self.target = text.to_owned();
        self
    }

    /// Injects this raw OS error instead of EIO.
    pub fn errno(mut self, errno: i32) -> Injector {
        self.errno = errno;
        self
    }

    fn matches(&self, op: Op, target: &str) -> bool {
        (self.ops.is_empty() || self.ops.contains(&op)) && target.contains(&self.target)
    }
}

#[derive(Debug)]
struct State {
    injector: Injector,
    /// Matching operations seen so far.
    seen: u64,
    trace: Vec<Traced>,
}

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Installs `injector` on the current thread until the guard is dropped.
pub fn install(injector: Injector) -> Guard {
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            injector,
            seen: 0,
            trace: Vec::new(),
        });
    });
    ACTIVE.with(|a| a.set(true));
    Guard { _private: () }
}

/// Injectors waiting for the first thread with their name to touch a file.
static FOR_THREADS: Mutex<Vec<(String, Injector)>> = Mutex::new(Vec::new());
static ANY_FOR_THREADS: AtomicBool = AtomicBool::new(false);

/// Installs `injector` on the first thread named `name` that performs a file
/// operation from now on (for threads a test does not run itself, such as a
/// service's writer). It stays installed for that thread's life. Process-wide: use
/// it only in a test binary of its own.
pub fn install_for_thread(name: &str, injector: Injector) {
    let mut waiting = FOR_THREADS.lock().unwrap_or_else(|p| p.into_inner());
    waiting.push((name.to_owned(), injector));
    ANY_FOR_THREADS.store(true, Ordering::SeqCst);
}

/// Installs on this thread an injector waiting for its name, if any.
fn claim_for_this_thread() {
    let current = std::thread::current();
    let Some(name) = current.name() else {
        return;
    };
    let mut waiting = FOR_THREADS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(at) = waiting.iter().position(|(n, _)| n == name) {
        let (_, injector) = waiting.remove(at);
        ANY_FOR_THREADS.store(!waiting.is_empty(), Ordering::SeqCst);
        std::mem::forget(install(injector));
    }
}

/// Keeps an injector installed; dropping it removes the injector.
#[derive(Debug)]
pub struct Guard {
    _private: (),
}

impl Guard {
    /// Every operation traced so far, in order.
    pub fn trace(&self) -> Vec<Traced> {
        STATE.with(|s| {
            s.borrow()
                .as_ref()
                .map(|s| s.trace.clone())
                .unwrap_or_default()
        })
    }

    /// How many operations were failed on purpose.
    pub fn injected(&self) -> usize {
        STATE.with(|s| {
            s.borrow()
                .as_ref()
                .map_or(0, |s| s.trace.iter().filter(|t| t.injected).count())
        })
    }

    /// How many operations matched the injector's filter (failed or not).
    pub fn matched(&self) -> u64 {
        STATE.with(|s| s.borrow().as_ref().map_or(0, |s| s.seen))
    }

    /// Replaces the plan, keeping the trace (e.g. "space came back").
    pub fn set(&self, injector: Injector) {
        STATE.with(|s| {
            if let Some(state) = s.borrow_mut().as_mut() {
                state.injector = injector;
                state.seen = 0;
            }
        });
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(false));
        STATE.with(|s| *s.borrow_mut() = None);
    }
}

/// Called before an operation: fails it if the plan says so (and traces the
/// failure). Cheap when no injector is installed.
pub fn before(op: Op, target: &str) -> io::Result<()> {
    if !ACTIVE.with(Cell::get) {
        if !ANY_FOR_THREADS.load(Ordering::Relaxed) {
            return Ok(());
        }
        claim_for_this_thread();
        if !ACTIVE.with(Cell::get) {
            return Ok(());
        }
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(state) = s.as_mut() else {
            return Ok(());
        };
        if !state.injector.matches(op, target) {
            return Ok(());
        }
        state.seen += 1;
        let fail = match state.injector.mode {
            Mode::Never => false,
            Mode::Once(n) => state.seen == n,
            Mode::From(n) => state.seen >= n,
        };
        if fail {
            state.trace.push(Traced {
                op,
                target: target.to_owned(),
                injected: true,
            });
            Err(io::Error::from_raw_os_error(state.injector.errno))
        } else {
            Ok(())
        }
    })
}

/// Called after an operation succeeded: traces it.
pub fn after(op: Op, target: &str) {
    if !ACTIVE.with(Cell::get) {
        return;
    }
    STATE.with(|s| {
        if let Some(state) = s.borrow_mut().as_mut() {
            state.trace.push(Traced {
                op,
                target: target.to_owned(),
                injected: false,
            });
        }
    });
}

/// Runs one file operation through the layer: maybe fails it, else runs and traces it.
pub fn io<T>(op: Op, target: &str, call: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    before(op, target)?;
    let value = call()?;
    after(op, target);
    Ok(value)
}
