//! One build's shell session: a `bash` whose commands of every phase run in the same process,
//! so `cd` and `export` carry over as they do in CodeBuild. Each phase is sent as one block
//! (read whole before it runs, with stdin closed for the commands), stops at its first failing
//! command, runs its `finally` commands regardless, and ends with a marker line carrying a
//! per-build nonce, its status and the failing command. The session is its own process group,
//! so a stop or a timeout kills whatever the commands started.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How a phase ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseEnd {
    /// Exit status 0, or the failing command (index into commands, then finally) and status.
    Done {
        status: i32,
        failed: Option<usize>,
    },
    TimedOut,
    Stopped,
    /// The shell itself ended (a command ran `exit`).
    ShellExited(Option<i32>),
}

pub struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    nonce: String,
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Session {
    pub fn start(dir: &Path, env: &[(String, String)]) -> std::io::Result<Session> {
        let mut command = Command::new("bash");
        command
            .arg("--noprofile")
            .arg("--norc")
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let (tx, lines) = mpsc::channel(1024);
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
            });
        }
        Ok(Session {
            child,
            stdin,
            lines,
            nonce: uuid::Uuid::new_v4().simple().to_string(),
        })
    }

    /// The block that runs `commands`, then `finally`, and reports.
    fn block(&self, commands: &[String], finally: &[String]) -> String {
        let mut s = String::from("{ __cpl_s=0; __cpl_c=''\n");
        for (i, c) in commands.iter().enumerate() {
            s += &format!(
                "if [ $__cpl_s -eq 0 ]; then printf '%s\\n' {}; eval {} || {{ __cpl_s=$?; __cpl_c={i}; }}; fi\n",
                quoted(&format!("[Container] Running command {c}")),
                quoted(c)
            );
        }
        for (i, c) in finally.iter().enumerate() {
            let at = commands.len() + i;
            s += &format!(
                "printf '%s\\n' {}; eval {} || {{ __cpl_f=$?; if [ $__cpl_s -eq 0 ]; then __cpl_s=$__cpl_f; __cpl_c={at}; fi; }}\n",
                quoted(&format!("[Container] Running command {c}")),
                quoted(c)
            );
        }
        s += &format!(
            "}} < /dev/null 2>&1\nprintf '%s %s %s\\n' '##cpl-{}' \"$__cpl_s\" \"$__cpl_c\"\n",
            self.nonce
        );
        s
    }

    /// Runs one phase, handing each output line to `out` (and `None` when nothing came for a
    /// moment); ends early on the deadline or when `stopped` says so.
    pub async fn phase(
        &mut self,
        commands: &[String],
        finally: &[String],
        deadline: Instant,
        stopped: &(dyn Fn() -> bool + Sync),
        out: &mut (dyn FnMut(Option<String>) + Send),
    ) -> PhaseEnd {
        let block = self.block(commands, finally);
        if self.stdin.write_all(block.as_bytes()).await.is_err()
            || self.stdin.flush().await.is_err()
        {
            return PhaseEnd::ShellExited(
                self.child.try_wait().ok().flatten().and_then(|s| s.code()),
            );
        }
        let marker = format!("##cpl-{} ", self.nonce);
        loop {
            if stopped() {
                return PhaseEnd::Stopped;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return PhaseEnd::TimedOut;
            }
            let wait = left.min(Duration::from_millis(200));
            match tokio::time::timeout(wait, self.lines.recv()).await {
                Ok(Some(line)) => match line.strip_prefix(&marker) {
                    Some(rest) => {
                        let mut parts = rest.split(' ');
                        let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
                        let failed = parts.next().and_then(|c| c.parse().ok());
                        return PhaseEnd::Done { status, failed };
                    }
                    None => out(Some(line)),
                },
                Ok(None) => {
                    let code = self.child.wait().await.ok().and_then(|s| s.code());
                    return PhaseEnd::ShellExited(code);
                }
                Err(_) => out(None),
            }
        }
    }

    /// The values of `names` in the session, read back base64-encoded so any value survives.
    pub async fn read_variables(&mut self, names: &[String]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in names {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let command = format!(
                "printf '%s %s\\n' '##cpl-{}-var' \"$(printf '%s' \"${{{name}}}\" | base64 -w0)\"\n",
                self.nonce
            );
            if self.stdin.write_all(command.as_bytes()).await.is_err() {
                break;
            }
            let _ = self.stdin.flush().await;
            let marker = format!("##cpl-{}-var ", self.nonce);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                match tokio::time::timeout(Duration::from_secs(5), self.lines.recv()).await {
                    Ok(Some(line)) => {
                        if let Some(encoded) = line.strip_prefix(&marker) {
                            let value = base64::Engine::decode(
                                &base64::engine::general_purpose::STANDARD,
                                encoded.trim(),
                            )
                            .ok()
                            .and_then(|b| String::from_utf8(b).ok())
                            .unwrap_or_default();
                            out.push((name.clone(), value));
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
        out
    }

    /// The shell's process id, which is also its process group's.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sets a variable in the session for the commands after (`CODEBUILD_BUILD_SUCCEEDING`).
    pub async fn export(&mut self, name: &str, value: &str) {
        let line = format!("export {name}={}\n", quoted(value));
        let _ = self.stdin.write_all(line.as_bytes()).await;
        let _ = self.stdin.flush().await;
    }

    /// Kills the session and everything it started.
    pub async fn kill(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.kill().await;
    }
}
