//! Running one vendor CLI: a child process started from an argument vector (never through a
//! shell), in its own process group, with a deadline that grows with the bytes it moves. On
//! the deadline the whole group is killed (gsutil ignores SIGTERM while it retries, azcopy
//! retries for minutes against a dead endpoint) and reaped.
//!
//! Settings, read on every call:
//! - `MLREGISTRY_AWS_CLI`, `MLREGISTRY_GSUTIL_CLI`, `MLREGISTRY_AZCOPY_CLI`: the programs
//!   (default `aws`, `gsutil`, `azcopy`, looked up on `PATH`);
//! - `MLREGISTRY_CLI_TIMEOUT`: the base deadline in seconds (default 60);
//! - `MLREGISTRY_CLI_MIN_RATE`: the slowest transfer accepted, in bytes per second (default
//!   1 MB/s); a process may run `base + bytes / rate` seconds;
//! - `MLREGISTRY_CLI_LOG`: a file that gets one line per process (tool, what it did, wall
//!   time in ms, exit code): never an argument, so never a secret.

use super::os;
use crate::registry::error::{Error, Result};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A vendor command-line tool: its default program name, the variable that overrides its
/// path, and how to get it (for the "not installed" error).
pub struct Tool {
    pub program: &'static str,
    pub env: &'static str,
    pub install: &'static str,
    /// Give it a stdin that stays open (and silent) rather than `/dev/null`: azcopy polls a
    /// closed stdin in a loop and burns a whole core for as long as it runs.
    pub open_stdin: bool,
}

pub const AWS: Tool = Tool {
    program: "aws",
    env: "MLREGISTRY_AWS_CLI",
    install: "install the AWS CLI (pip install awscli, or AWS CLI v2 from AWS)",
    open_stdin: false,
};

pub const GSUTIL: Tool = Tool {
    program: "gsutil",
    env: "MLREGISTRY_GSUTIL_CLI",
    install: "install gsutil (pip install gsutil, or the Google Cloud SDK)",
    open_stdin: false,
};

pub const AZCOPY: Tool = Tool {
    program: "azcopy",
    env: "MLREGISTRY_AZCOPY_CLI",
    install: "install AzCopy v10 (Microsoft's download, or npm @azure-tools/azcopy-linux, \
              whose binary is not put on PATH)",
    open_stdin: true,
};

impl Tool {
    /// The program to start: the override variable's value, else the name on `PATH`.
    pub fn path(&self) -> String {
        std::env::var(self.env)
            .ok()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| self.program.to_string())
    }
}

const DEFAULT_BASE_SECS: f64 = 60.0;
const DEFAULT_MIN_RATE: f64 = 1_000_000.0;

/// How long a process may run: `base` seconds plus one second per `rate` bytes moved.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub base: f64,
    pub rate: f64,
}

fn positive(var: &str, default: f64, unit: &str, (min, max): (f64, f64)) -> Result<f64> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(t) if t.trim().is_empty() => Ok(default),
        Ok(t) => match t.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v >= min && v <= max => Ok(v),
            _ => Err(Error::arg(
                var,
                format!("a positive number of {unit} from {min} to {max}; got {t:?}"),
            )),
        },
    }
}

/// The longest any one CLI process may run, whatever it moves: a week.
const MAX_DEADLINE_SECS: f64 = 7.0 * 86_400.0;

impl Limits {
    /// The limits set by `MLREGISTRY_CLI_TIMEOUT` and `MLREGISTRY_CLI_MIN_RATE`.
    pub fn from_env() -> Result<Limits> {
        Ok(Limits {
            base: positive(
                "MLREGISTRY_CLI_TIMEOUT",
                DEFAULT_BASE_SECS,
                "seconds",
                (0.0, 86_400.0),
            )?,
            rate: positive(
                "MLREGISTRY_CLI_MIN_RATE",
                DEFAULT_MIN_RATE,
                "bytes per second",
                (1.0, 1e12),
            )?,
        })
    }

    fn allowed(&self, bytes: u64) -> Duration {
        Duration::from_secs_f64((self.base + bytes as f64 / self.rate).min(MAX_DEADLINE_SECS))
    }
}

/// What a process moves, which sets its deadline.
pub enum Moves {
    /// An upload (or a call moving nothing) of a known size.
    Bytes(u64),
    /// A download into a folder: the deadline grows with the bytes that have landed there.
    Into(PathBuf),
}

/// What a finished process printed, and how it ended.
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything it printed, stdout first.
    pub fn text(&self) -> String {
        let mut t = self.stdout_text();
        t.push('\n');
        t.push_str(&String::from_utf8_lossy(&self.stderr));
        t
    }
}

/// One command line: the tool, a short description for logs and errors (never a secret,
/// e.g. `s3api get-object`) and the arguments.
pub struct Cmd<'a> {
    tool: &'a Tool,
    what: String,
    args: Vec<OsString>,
    /// Bytes fed to its stdin (then closed).
    input: Option<Vec<u8>>,
}

impl<'a> Cmd<'a> {
    pub fn new(tool: &'a Tool, what: &str) -> Cmd<'a> {
        Cmd {
            tool,
            what: what.to_string(),
            args: Vec::new(),
            input: None,
        }
    }

    /// Feeds `bytes` to the process's stdin.
    pub fn input(mut self, bytes: Vec<u8>) -> Cmd<'a> {
        self.input = Some(bytes);
        self
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Cmd<'a> {
        self.args.push(a.into());
        self
    }

    pub fn args<I, A>(mut self, all: I) -> Cmd<'a>
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        self.args.extend(all.into_iter().map(Into::into));
        self
    }

    /// `program what`, as errors name the command.
    pub fn describe(&self) -> String {
        format!("{} {}", self.tool.program, self.what)
    }
}

/// Collects one pipe in a thread; `done` fires when the pipe closes.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    done: Receiver<()>,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Drain {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let (tx, done) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        let sink = Arc::clone(&buf);
        thread::spawn(move || {
            let mut chunk = [0u8; 64 * 1024];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend_from_slice(&chunk[..n]),
                }
            }
            let _ = tx.send(());
        });
    }
    Drain { buf, done }
}

impl Drain {
    /// The bytes read, waiting at most `grace` for the pipe to close (a stray grandchild
    /// may hold it open after the group leader is gone).
    fn finish(self, grace: Duration) -> Vec<u8> {
        let _ = self.done.recv_timeout(grace);
        std::mem::take(&mut *self.buf.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A started process.
pub struct Running {
    what: String,
    program: &'static str,
    pid: u32,
    started: Instant,
    moves: Moves,
    limits: Limits,
    exited: Receiver<std::io::Result<std::process::ExitStatus>>,
    stdout: Drain,
    stderr: Drain,
    /// Held open until the process ends (see [`Tool::open_stdin`]).
    _stdin: Option<std::process::ChildStdin>,
}

/// Starts `cmd`; `moves` and `limits` set its deadline.
pub fn spawn(cmd: Cmd, moves: Moves, limits: Limits) -> Result<Running> {
    let path = cmd.tool.path();
    let stdin = if cmd.tool.open_stdin || cmd.input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = Command::new(&path)
        .args(&cmd.args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| not_started(cmd.tool, &path, e))?;
    let pid = child.id();
    let mut stdin = child.stdin.take();
    let what = cmd.describe();
    if let (Some(bytes), Some(mut pipe)) = (cmd.input, stdin.take()) {
        // A writer thread, so a process that stops reading cannot block this one; the pipe
        // closes when the thread ends.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let (tx, exited) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    Ok(Running {
        what,
        program: cmd.tool.program,
        pid,
        started: Instant::now(),
        moves,
        limits,
        exited,
        stdout,
        stderr,
        _stdin: stdin,
    })
}

/// Runs `cmd` to the end (or to its deadline).
pub fn run(cmd: Cmd, moves: Moves, limits: Limits) -> Result<Output> {
    spawn(cmd, moves, limits)?.wait()
}

fn not_started(tool: &Tool, path: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Storage(format!(
            "the {} CLI is not installed: {path:?} was not found ({}); {}, or set {} to its \
             path",
            tool.program,
            if std::env::var_os(tool.env).is_some() {
                format!("set by {}", tool.env)
            } else {
                "looked up on PATH".to_string()
            },
            tool.install,
            tool.env
        ))
    } else {
        Error::Storage(format!(
            "could not start the {} CLI {path:?} ({}): {e}",
            tool.program, tool.env
        ))
    }
}

/// Total size of the files below `dir` (what a download has landed so far).
fn landed(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

const POLL: Duration = Duration::from_millis(200);
const PIPE_GRACE: Duration = Duration::from_secs(5);
const REAP_GRACE: Duration = Duration::from_secs(10);

impl Running {
    fn allowed(&self) -> Duration {
        match &self.moves {
            Moves::Bytes(n) => self.limits.allowed(*n),
            Moves::Into(dir) => self.limits.allowed(landed(dir)),
        }
    }

    /// Waits for the process; kills its whole group at the deadline.
    pub fn wait(self) -> Result<Output> {
        let mut allowed = self.allowed();
        let status = loop {
            let elapsed = self.started.elapsed();
            if elapsed >= allowed {
                allowed = self.allowed();
                if elapsed >= allowed {
                    break None;
                }
            }
            match self.exited.recv_timeout((allowed - elapsed).min(POLL)) {
                Ok(status) => break Some(status),
                Err(RecvTimeoutError::Timeout) => {
                    if matches!(self.moves, Moves::Into(_)) {
                        allowed = self.allowed();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    break Some(Err(std::io::Error::other("the process watcher stopped")));
                }
            }
        };
        let Some(status) = status else {
            // The leader is not reaped yet, so its pid still names the group.
            os::kill_group(self.pid);
            let _ = self.exited.recv_timeout(REAP_GRACE);
            self.stdout.finish(Duration::from_millis(500));
            self.stderr.finish(Duration::from_millis(500));
            let secs = self.started.elapsed().as_secs_f64();
            log_line(self.program, &self.what, self.started.elapsed(), None);
            return Err(Error::Storage(format!(
                "{} timed out after {secs:.1} s and was stopped (the limit is \
                 MLREGISTRY_CLI_TIMEOUT={} s plus one second per MLREGISTRY_CLI_MIN_RATE={} \
                 bytes moved): the endpoint is not answering, or too slowly",
                self.what, self.limits.base, self.limits.rate
            )));
        };
        let status =
            status.map_err(|e| Error::Storage(format!("could not wait for {}: {e}", self.what)))?;
        let out = Output {
            code: status.code(),
            stdout: self.stdout.finish(PIPE_GRACE),
            stderr: self.stderr.finish(PIPE_GRACE),
        };
        log_line(self.program, &self.what, self.started.elapsed(), out.code);
        Ok(out)
    }
}

/// Appends one line to `MLREGISTRY_CLI_LOG`, if set: `tool<TAB>what<TAB>ms<TAB>exit`.
fn log_line(program: &str, what: &str, took: Duration, code: Option<i32>) {
    let Some(path) = std::env::var_os("MLREGISTRY_CLI_LOG").filter(|p| !p.is_empty()) else {
        return;
    };
    let code = code
        .map(|c| c.to_string())
        .unwrap_or_else(|| "killed".into());
    let line = format!("{program}\t{what}\t{}\t{code}\n", took.as_millis());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut f) = file {
        // One write of a short line to an O_APPEND file: lines of concurrent processes
        // do not interleave.
        let _ = f.write_all(line.as_bytes());
    }
}

/// What `text` says with secrets taken out: each of `secrets`, the query string of any URL
/// (where a SAS token travels), and any `sig=` value.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s, "<redacted>");
    }
    let mut clean = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("http") {
        let (before, from) = rest.split_at(at);
        clean.push_str(before);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(from.len());
        let url = &from[..end];
        match url.split_once('?') {
            Some((base, _)) if url.starts_with("http://") || url.starts_with("https://") => {
                clean.push_str(base);
                clean.push_str("?<SAS redacted>");
            }
            _ => clean.push_str(url),
        }
        rest = &from[end..];
    }
    clean.push_str(rest);
    let mut result = String::with_capacity(clean.len());
    let mut rest = clean.as_str();
    while let Some(at) = rest.find("sig=") {
        result.push_str(&rest[..at + 4]);
        let after = &rest[at + 4..];
        let end = after
            .find(|c: char| c == '&' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        result.push_str("<redacted>");
        rest = &after[end..];
    }
    result.push_str(rest);
    result
}

/// The last meaningful lines of what a process printed (progress and notes left out),
/// short enough for one q error, with secrets redacted.
pub fn gist(out: &Output, secrets: &[&str]) -> String {
    let text = out.text();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("INFO:")
                && !l.starts_with("----")
                && !l.contains("% Done")
                && !l.contains("Throughput")
        })
        .collect();
    let tail = lines[lines.len().saturating_sub(4)..].join(" | ");
    let mut short: String = tail.chars().take(600).collect();
    if tail.chars().count() > 600 {
        short.push('…');
    }
    redact(&short, secrets)
}

/// Whether a TCP connection to `host:port` can be opened within `within`. Used before CLIs
/// that would otherwise retry for many minutes against a dead endpoint. `Err` carries why
/// not (refused, timed out, unknown host).
pub fn reachable(host: &str, port: u16, within: Duration) -> std::result::Result<(), String> {
    use std::net::{TcpStream, ToSocketAddrs};
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut why = format!("{host} has no address");
    for a in addrs.iter().take(4) {
        match TcpStream::connect_timeout(a, within) {
            Ok(_) => return Ok(()),
            Err(e) => why = e.to_string(),
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_takes_out_queries_signatures_and_secrets() {
        let t = "GET http://127.0.0.1:1/acct/c/x?sv=1&se=2&sig=abc%2F failed; sig=zzz&sp=r \
                 token TOPSECRET";
        let r = redact(t, &["TOPSECRET"]);
        assert!(
            !r.contains("abc") && !r.contains("zzz") && !r.contains("TOPSECRET"),
            "{r}"
        );
        assert!(!r.contains("se=2"), "{r}");
        assert!(
            r.contains("http://127.0.0.1:1/acct/c/x?<SAS redacted>"),
            "{r}"
        );
    }

    #[test]
    fn a_missing_program_is_named_with_its_variable() {
        let tool = Tool {
            program: "no-such-cli",
            env: "MLREGISTRY_TEST_NO_SUCH_CLI",
            install: "install it",
            open_stdin: false,
        };
        let limits = Limits {
            base: 5.0,
            rate: 1e6,
        };
        let e = run(Cmd::new(&tool, "x"), Moves::Bytes(0), limits)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("not installed") && e.contains("MLREGISTRY_TEST_NO_SUCH_CLI"),
            "{e}"
        );
    }

    #[test]
    fn a_process_past_its_deadline_is_killed_with_its_group() {
        let tool = Tool {
            program: "sh",
            env: "MLREGISTRY_TEST_SH",
            install: "",
            open_stdin: true,
        };
        let limits = Limits {
            base: 0.5,
            rate: 1e6,
        };
        let t0 = Instant::now();
        // The child leaves a grandchild that would hold the pipes for 30 s.
        let cmd = Cmd::new(&tool, "sleep")
            .arg("-c")
            .arg("sleep 30 & sleep 30");
        let e = run(cmd, Moves::Bytes(0), limits).err().unwrap().to_string();
        assert!(e.contains("timed out"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }
}
