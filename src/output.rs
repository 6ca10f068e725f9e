//! Where a command's words go. On the command line, standard output and standard
//! error; when a running service answers a command for the command line beside it
//! (`commands/beside.rs`), the socket that command came in on. Commands print with
//! `outln!`/`out!`/`errln!` instead of `println!`/`print!`/`eprintln!`, so the same
//! code gives the same answer either way.
//!
//! The sink is per thread: the service runs each command it is asked on a thread of
//! its own with that command's socket as its sink.

use std::cell::RefCell;
use std::io::Write;

/// The two streams a command writes to, when they are not the process's own.
pub struct Sink {
    pub out: Box<dyn Write>,
    pub err: Box<dyn Write>,
    /// Set once a write failed (the reader went away): later words are dropped, and
    /// the command runs on to its end as it would with its output closed.
    pub closed: bool,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("closed", &self.closed)
            .finish()
    }
}

thread_local! {
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's words going to `sink`; says too whether the reader
/// went away meanwhile.
pub fn captured<T>(sink: Sink, f: impl FnOnce() -> T) -> (T, bool) {
    SINK.with(|s| *s.borrow_mut() = Some(sink));
    // Taken back however `f` ends, so a panic never leaves the thread redirected.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            SINK.with(|s| s.borrow_mut().take());
        }
    }
    let restore = Restore;
    let value = f();
    let closed = SINK.with(|s| s.borrow().as_ref().is_some_and(|sink| sink.closed));
    drop(restore);
    (value, closed)
}

/// Writes to standard output (or the sink). On the command line a reader that has
/// gone away (`assure history | head`) ends the program quietly, as a Unix tool does.
pub fn out(args: std::fmt::Arguments<'_>) {
    write(args, false);
}

/// Writes to standard error (or the sink).
pub fn err(args: std::fmt::Arguments<'_>) {
    write(args, true);
}

/// Writes bytes to standard output (or the sink) as they are: for output written
/// piece by piece (a JSON array streamed event by event), cut anywhere.
pub fn out_bytes(bytes: &[u8]) {
    let redirected = SINK.with(|s| {
        let mut s = s.borrow_mut();
        let Some(sink) = s.as_mut() else {
            return false;
        };
        if !sink.closed && sink.out.write_all(bytes).is_err() {
            sink.closed = true;
        }
        true
    });
    if redirected {
        return;
    }
    if let Err(error) = std::io::stdout().lock().write_all(bytes) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Standard output (or the sink) as an `io::Write`, for serializers that stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct Out;

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        out_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write(args: std::fmt::Arguments<'_>, to_err: bool) {
    let redirected = SINK.with(|s| {
        let mut s = s.borrow_mut();
        let Some(sink) = s.as_mut() else {
            return false;
        };
        if !sink.closed {
            let stream = if to_err { &mut sink.err } else { &mut sink.out };
            if stream.write_fmt(args).is_err() {
                sink.closed = true;
            }
        }
        true
    });
    if redirected {
        return;
    }
    let written = if to_err {
        std::io::stderr().lock().write_fmt(args)
    } else {
        std::io::stdout().lock().write_fmt(args)
    };
    if let Err(error) = written {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// `println!` for a command's words (see the module).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` for a command's words.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::out(format_args!($($arg)*)) };
}

/// `eprintln!` for a command's words.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::err(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` for a command's words (a question before an answer is read).
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::err(format_args!($($arg)*)) };
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_captured_thread_writes_to_its_sink_and_a_closed_reader_ends_nothing() {
        let shared = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct To(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for To {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink {
            out: Box::new(To(shared.clone())),
            err: Box::new(Gone),
            closed: false,
        };
        let ((), closed) = captured(sink, || {
            crate::outln!("one {}", 1);
            crate::out!("two");
            crate::errln!("lost");
            crate::outln!("dropped after the reader went away");
        });
        assert!(closed);
        assert_eq!(&*shared.lock().unwrap(), b"one 1\ntwo");
        // The thread writes to its own streams again.
        assert!(SINK.with(|s| s.borrow().is_none()));
    }
}
