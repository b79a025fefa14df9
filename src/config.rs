//! Command-line flags, each also readable from `CODEPIPELINE_LOCAL_<NAME>`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "codepipeline-local",
    version,
    about = "A local emulator of AWS CodePipeline"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CODEPIPELINE_LOCAL_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the ready line names it).
    #[arg(long, env = "CODEPIPELINE_LOCAL_PORT", default_value_t = 4566)]
    pub port: u16,
    /// Folder of the durable store.
    #[arg(
        long,
        env = "CODEPIPELINE_LOCAL_DATA_DIR",
        default_value = "./.codepipeline-local"
    )]
    pub data_dir: PathBuf,
    /// Keep nothing on disk.
    #[arg(long, env = "CODEPIPELINE_LOCAL_IN_MEMORY", default_value_t = false)]
    pub in_memory: bool,
    /// Log line format.
    #[arg(long, env = "CODEPIPELINE_LOCAL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// How long each stub action runs (`0s`, `250ms`, `1s`, `2m`); `/_local/config` changes it at run time.
    #[arg(long, env = "CODEPIPELINE_LOCAL_ACTION_DURATION", default_value = "1s", value_parser = parse_duration_flag)]
    pub action_duration: f64,
    /// Check every request's SigV4 signature and refuse the ones AWS would refuse.
    #[arg(
        long,
        env = "CODEPIPELINE_LOCAL_VERIFY_SIGNATURES",
        default_value_t = false
    )]
    pub verify_signatures: bool,
    /// Access keys to accept besides `test`/`test`, in the `~/.aws/credentials` format; a profile
    /// may set `account_id` to choose the account its requests act in.
    #[arg(long, env = "CODEPIPELINE_LOCAL_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Close a connection whose request headers have not all arrived within this time.
    #[arg(long, env = "CODEPIPELINE_LOCAL_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = parse_timeout_flag)]
    pub header_read_timeout: Duration,
    /// Host names served besides loopback names (and their `<bucket>.` forms), comma-separated.
    /// On a loopback `--host` only loopback names are served without it; on any other `--host`
    /// every name is, unless this is given.
    #[arg(long, env = "CODEPIPELINE_LOCAL_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Origins of web pages that may call the server from a browser (CORS), comma-separated,
    /// e.g. `http://localhost:3000`. The console's own origin never needs naming.
    #[arg(
        long,
        env = "CODEPIPELINE_LOCAL_CORS_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_allowed_origins: Vec<String>,
    /// A token every `/_local/` and console request must carry (`auto` makes one and prints the
    /// console URL with it). On by default with `--verify-signatures`.
    #[arg(long, env = "CODEPIPELINE_LOCAL_CONTROL_TOKEN")]
    pub control_token: Option<String>,
    /// Test aid: check every reply against the model's output shape; a mismatch answers 500.
    #[arg(
        long,
        env = "CODEPIPELINE_LOCAL_CHECK_REPLIES",
        default_value_t = false,
        hide = true
    )]
    pub check_replies: bool,
    /// Run the buildspecs of CodeBuild actions and StartBuild, and the commands of Commands
    /// actions, as shell commands on this machine (off: builds are simulated).
    #[arg(long, env = "CODEPIPELINE_LOCAL_RUN_BUILDS", default_value_t = false)]
    pub run_builds: bool,
    /// At most this many builds run at once; the rest wait QUEUED (default: the cores).
    #[arg(long, env = "CODEPIPELINE_LOCAL_BUILD_CONCURRENCY")]
    pub build_concurrency: Option<usize>,
    /// Keep the newest N finished executions of each pipeline and delete older ones (default:
    /// all, as AWS keeps a year of them).
    #[arg(long, env = "CODEPIPELINE_LOCAL_EXECUTION_HISTORY", value_parser = clap::value_parser!(u64).range(1..))]
    pub execution_history: Option<u64>,
}

impl Config {
    /// A configuration for tests and embedding: in memory, any free port.
    pub fn in_memory() -> Self {
        Config {
            host: "127.0.0.1".to_owned(),
            port: 0,
            data_dir: PathBuf::new(),
            in_memory: true,
            log_format: LogFormat::Text,
            check_replies: false,
            action_duration: 1.0,
            header_read_timeout: Duration::from_secs(30),
            verify_signatures: false,
            credentials_file: None,
            allowed_hosts: Vec::new(),
            cors_allowed_origins: Vec::new(),
            control_token: None,
            run_builds: false,
            build_concurrency: None,
            execution_history: None,
        }
    }
}

fn parse_duration_flag(text: &str) -> Result<f64, String> {
    crate::durations::parse_duration(text)
}

fn parse_timeout_flag(text: &str) -> Result<Duration, String> {
    let seconds = crate::durations::parse_duration(text)?;
    if seconds <= 0.0 {
        return Err("the timeout must be more than zero".to_owned());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("'{text}' is too long"))
}
