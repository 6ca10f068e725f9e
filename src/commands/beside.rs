//! The command line beside a running service. `assure serve` holds the data folder's
//! lock, so a command cannot open the ledger while it runs. Instead the service
//! listens on a local socket in the data folder, `DATA/.service/socket` (in a
//! folder only its owner may enter, the socket itself owner-only), and answers the
//! read-only commands there: the command line sends its arguments, the service runs
//! the very same command function on its own ledger (lent under its ledger lock, as
//! a page's read is) and streams back what the command prints and its exit status.
//! The answers are therefore the ones the command would give on its own.
//!
//! A command that changes the ledger is never run this way: it is refused with a
//! message that says the service is running and how to make the change through it.
//!
//! The exchange: one line of JSON `{"argv": [...], "cwd": "..."}`, then frames of
//! one tag byte (`o` standard output, `e` standard error, `x` the exit status), a
//! four-byte big-endian length and that many bytes; `x` carries the status as four
//! big-endian bytes and ends the answer.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Read as _, Write};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use clap::Parser as _;
use ledger::Ledger;

use crate::app::{App, Held};
use crate::cli::{ChallengeCommand, Cli, Command};

/// The folder (owner-only) holding the socket.
pub fn folder(data: &Path) -> PathBuf {
    data.join(".service")
}

pub fn socket(data: &Path) -> PathBuf {
    folder(data).join("socket")
}

/// At most this many commands are answered at once; more are told to try again.
const AT_ONCE: usize = 4;

/// The commands the service answers: those that only read the ledger (a checkpoint
/// signed for a proof or an export is the one write, made as the service makes it).
/// `verify --bundle` reads no ledger, so it always runs on its own.
pub fn answerable(command: &Command) -> bool {
    match command {
        Command::Plans { .. }
        | Command::Plan { .. }
        | Command::Action { .. }
        | Command::Agencies { .. }
        | Command::Challenges { .. }
        | Command::Challenge(ChallengeCommand::Show { .. })
        | Command::History { .. }
        | Command::Checkpoints
        | Command::Proof { .. }
        | Command::Export { .. }
        | Command::Backup { .. }
        | Command::Tiles { .. }
        | Command::Report { .. }
        | Command::Witness(crate::cli::WitnessCommand::Request { .. }) => true,
        Command::Verify { bundle, .. } => bundle.is_none(),
        _ => false,
    }
}

/// A connection to the service running on `data`, if one answers.
fn connect(data: &Path) -> Option<UnixStream> {
    UnixStream::connect(socket(data)).ok()
}

/// Has the service beside answer `cli`'s command when it is read-only and a
/// service runs on its folder: `Some(exit status)` once answered.
pub fn answered(cli: &Cli, argv: &[OsString]) -> Option<i32> {
    if !answerable(&cli.command) {
        return None;
    }
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.to_str().map(str::to_owned))
        .collect::<Option<_>>()?;
    let stream = connect(&cli.data)?;
    let cwd = std::env::current_dir().ok()?;
    match ask(stream, &argv, &cwd) {
        Ok(code) => Some(code),
        Err(error) => {
            crate::errln!("error: asking the running service: {error:#}");
            Some(1)
        }
    }
}

/// Sends one command and copies its answer to this process's output.
fn ask(mut stream: UnixStream, argv: &[String], cwd: &Path) -> Result<i32> {
    let request = serde_json::json!({ "argv": argv, "cwd": cwd });
    let mut line = serde_json::to_vec(&request)?;
    line.push(b'\n');
    stream.write_all(&line).context("sending the command")?;
    let mut stream = BufReader::new(stream);
    loop {
        let mut head = [0u8; 5];
        stream
            .read_exact(&mut head)
            .context("the service stopped before it finished answering")?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).context("reading the answer")?;
        match head[0] {
            b'o' => crate::out!("{}", String::from_utf8_lossy(&body)),
            b'e' => crate::err!("{}", String::from_utf8_lossy(&body)),
            b'x' if len == 4 => {
                return Ok(i32::from_be_bytes([body[0], body[1], body[2], body[3]]))
            }
            other => anyhow::bail!("the service sent a frame it should not ({other})"),
        }
    }
}

/// A command that failed because the folder is in use: when the service runs on it,
/// says so and how to make the change, instead of "wait for it to finish".
pub fn explain_in_use(error: anyhow::Error, data: &Path) -> anyhow::Error {
    let in_use = error
        .chain()
        .any(|cause| matches!(cause.downcast_ref(), Some(ledger::Error::InUse { .. })));
    if !in_use || connect(data).is_none() {
        return error;
    }
    crate::exit::Usage(format!(
        "assure serve is running on {}, so this change cannot be made from the command line beside it: make it through the service — its web pages, or its API with a token (`assure --data {} token new NAME`, then see /api/v1/openapi.json) — or stop the service and run this again. Read-only commands (plans, plan, action, challenges, history, verify, checkpoints, proof, export, report) work while it runs.",
        data.display(),
        data.display()
    ))
    .into()
}

/// The socket a running service listens on; dropping it stops listening and removes
/// the socket.
#[derive(Debug)]
pub struct Listening {
    path: PathBuf,
    stop: Arc<AtomicBool>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees `stop`.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `data`'s socket and answers read-only commands on `ledger` (the
/// service's own, shared with its writer), each on a thread of its own.
pub fn listen(data: &Path, ledger: Arc<Mutex<Ledger>>) -> Result<Listening> {
    let folder = folder(data);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&folder)
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })
        .with_context(|| format!("making {}", folder.display()))?;
    // A folder left from before keeps only its owner's permission.
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} owner-only", folder.display()))?;
    let path = socket(data);
    // The service holds the folder's lock, so a socket here is a stale one.
    let _ = std::fs::remove_file(&path);
    let listener =
        UnixListener::bind(&path).with_context(|| format!("listening on {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} owner-only", path.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (stopping, data) = (stop.clone(), data.to_path_buf());
    let busy = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("assure-beside".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if busy.fetch_add(1, Ordering::SeqCst) >= AT_ONCE {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    refuse(
                        stream,
                        "the service is answering other commands; try again in a moment",
                    );
                    continue;
                }
                let (ledger, data, done) = (ledger.clone(), data.clone(), busy.clone());
                let spawned = std::thread::Builder::new()
                    .name("assure-command".into())
                    .spawn(move || {
                        answer(stream, &data, &ledger);
                        done.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    // No thread: the stream went with the closure (the client sees the
                    // service stop), and the place it took is given back.
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })
        .context("starting the socket's thread")?;
    Ok(Listening { path, stop })
}

/// Says why a command is not answered, with exit status 1.
fn refuse(mut stream: UnixStream, why: &str) {
    let _ = frame(&mut stream, b'e', format!("error: {why}\n").as_bytes());
    let _ = frame(&mut stream, b'x', &1i32.to_be_bytes());
}

fn frame(stream: &mut impl Write, tag: u8, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut head = [tag, 0, 0, 0, 0];
    head[1..].copy_from_slice(&len.to_be_bytes());
    stream.write_all(&head)?;
    stream.write_all(&body[..len as usize])
}

/// One stream of a command's output, sent as frames of `tag`.
struct Framed {
    stream: UnixStream,
    tag: u8,
}

impl Write for Framed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        frame(&mut self.stream, self.tag, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

#[derive(serde::Deserialize)]
struct Request {
    argv: Vec<String>,
    cwd: PathBuf,
}

/// Reads one command, runs it on the lent ledger with its output framed back, and
/// ends with its exit status.
fn answer(stream: UnixStream, data: &Path, ledger: &Mutex<Ledger>) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut line = String::new();
    let read = stream
        .try_clone()
        .and_then(|s| BufReader::new(s.take(1 << 20)).read_line(&mut line));
    let request: Request = match read.ok().and_then(|_| serde_json::from_str(&line).ok()) {
        Some(request) => request,
        None => return refuse(stream, "the service could not read the command it was sent"),
    };
    let mut cli = match Cli::try_parse_from(&request.argv) {
        Ok(cli) => cli,
        Err(error) => return refuse(stream, &error.to_string()),
    };
    if !answerable(&cli.command) || !request.cwd.is_absolute() {
        return refuse(stream, "the service answers only the read-only commands");
    }
    rebase(&mut cli.command, &request.cwd);
    let (Ok(out), Ok(err)) = (stream.try_clone(), stream.try_clone()) else {
        return refuse(stream, "the service could not answer (no socket to spare)");
    };
    let sink = crate::output::Sink {
        out: Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            Framed {
                stream: out,
                tag: b'o',
            },
        )),
        err: Box::new(Framed {
            stream: err,
            tag: b'e',
        }),
        closed: false,
    };
    let actor = crate::app::actor_name(cli.actor);
    let open = || {
        let guard = ledger.lock().unwrap_or_else(|p| p.into_inner());
        // What the writer has acknowledged goes into the store before it is read.
        guard.syncer().flush_store()?;
        Ok(App {
            ledger: Held::Lent(guard),
            actor: actor.clone(),
        })
    };
    let (code, closed) =
        crate::output::captured(sink, || match super::dispatch(cli.command, data, open) {
            Ok(()) => 0,
            Err(error) => {
                if !error.is::<crate::exit::VerificationFailed>() {
                    crate::errln!("error: {error:#}");
                }
                crate::exit::code_for(&error)
            }
        });
    if !closed {
        let mut stream = stream;
        let _ = frame(&mut stream, b'x', &code.to_be_bytes());
    }
}

/// Paths the command line typed relative to where it runs, made absolute: the
/// service runs elsewhere.
fn rebase(command: &mut Command, cwd: &Path) {
    let at = |path: &mut PathBuf| {
        if path.is_relative() {
            *path = cwd.join(&*path);
        }
    };
    match command {
        Command::Proof { key, .. } => key.iter_mut().for_each(at),
        Command::Export { out, key, .. }
        | Command::Backup { out, key }
        | Command::Tiles { out, key, .. } => {
            at(out);
            key.iter_mut().for_each(at);
        }
        Command::Report { out, .. } => at(out),
        Command::Verify { against, trust, .. } => {
            against.iter_mut().for_each(at);
            for vkey in trust {
                let file = cwd.join(&*vkey);
                if Path::new(vkey).is_relative() && file.is_file() {
                    *vkey = file.to_string_lossy().into_owned();
                }
            }
        }
        _ => {}
    }
}
