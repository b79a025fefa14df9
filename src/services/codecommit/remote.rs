//! The git remote of CodeCommit repositories: git's smart HTTP protocol at
//! `/v1/repos/<name>/{info/refs, git-upload-pack, git-receive-pack}`, served by git's own
//! `git http-backend` run as a CGI program, so clone, fetch and push (protocol v0 and v2)
//! behave exactly as git's reference server does. Any credentials are accepted, as for the
//! JSON API; the path names the account and region (`remote_path`), or a 12-digit user name
//! picks the account of the short form. A
//! push's reference changes become `CodeCommit Repository State Change` events, and the first
//! branch pushed becomes the default branch, as in CodeCommit.

use std::process::Stdio;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use futures_util::StreamExt as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::events;
use super::git::git;
use super::records::{self, RepositoryRecord};
use super::repositories::check_name;
use crate::call::Context;
use crate::state::AppState;
use crate::wire::context::{is_region_like, DEFAULT_ACCOUNT, DEFAULT_REGION};

/// `/v1/repos/<name>` is the default account's repository in the default region, as
/// `cloneUrlHttp` says; another account's or region's is `/v1/<account>/<region>/repos/<name>`
/// (AWS puts the region in the host name, which a local server cannot).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/repos/{name}/info/refs", get(info_refs))
        .route("/v1/repos/{name}/git-upload-pack", post(upload_pack))
        .route("/v1/repos/{name}/git-receive-pack", post(receive_pack))
        .route(
            "/v1/{account}/{region}/repos/{name}/info/refs",
            get(scoped_info_refs),
        )
        .route(
            "/v1/{account}/{region}/repos/{name}/git-upload-pack",
            post(scoped_upload_pack),
        )
        .route(
            "/v1/{account}/{region}/repos/{name}/git-receive-pack",
            post(scoped_receive_pack),
        )
}

/// Whether a path is the git remote's (so S3 does not take it for a bucket named `v1`).
pub fn is_git_path(path: &str) -> bool {
    path.strip_prefix("/v1/").is_some_and(|rest| {
        rest.contains("repos/")
            && (rest.ends_with("/info/refs")
                || rest.ends_with("/git-upload-pack")
                || rest.ends_with("/git-receive-pack"))
    })
}

/// The path part of a repository's remote: short for the default account and region.
pub fn remote_path(account: &str, region: &str, name: &str) -> String {
    if account == DEFAULT_ACCOUNT && region == DEFAULT_REGION {
        format!("/v1/repos/{name}")
    } else {
        format!("/v1/{account}/{region}/repos/{name}")
    }
}

type Scoped = Path<(String, String, String)>;

async fn scoped_info_refs(
    State(state): State<Arc<AppState>>,
    Path((account, region, name)): Scoped,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    match scope(account, region) {
        Ok(ctx) => refs(&state, ctx, &name, query, request).await,
        Err(answer) => *answer,
    }
}

async fn scoped_upload_pack(
    State(state): State<Arc<AppState>>,
    Path((account, region, name)): Scoped,
    request: Request,
) -> Response {
    match scope(account, region) {
        Ok(ctx) => serve(&state, ctx, &name, "git-upload-pack", "", request, false).await,
        Err(answer) => *answer,
    }
}

async fn scoped_receive_pack(
    State(state): State<Arc<AppState>>,
    Path((account, region, name)): Scoped,
    request: Request,
) -> Response {
    match scope(account, region) {
        Ok(ctx) => serve(&state, ctx, &name, "git-receive-pack", "", request, true).await,
        Err(answer) => *answer,
    }
}

fn scope(account: String, region: String) -> Result<Context, Box<Response>> {
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !account_ok || !is_region_like(&region) {
        return Err(Box::new(text(
            StatusCode::BAD_REQUEST,
            format!("'{account}/{region}' is not an account and a region"),
        )));
    }
    Ok(Context::new(account, region))
}

pub fn text(status: StatusCode, message: String) -> Response {
    // git prints a text/plain error body to the user as `remote: ...`.
    let mut r = (status, format!("{message}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The account a git request acts in: a 12-digit user name names it, else the default one.
fn context_of(headers: &HeaderMap) -> Context {
    let user = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.split(':').next().map(str::to_owned));
    let account = user
        .filter(|u| u.len() == 12 && u.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned());
    Context::new(account, DEFAULT_REGION)
}

fn repository(
    state: &AppState,
    ctx: &Context,
    name: &str,
) -> Result<RepositoryRecord, Box<Response>> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && check_name(name).is_ok();
    if !valid {
        return Err(Box::new(text(
            StatusCode::BAD_REQUEST,
            format!("'{name}' is not a valid CodeCommit repository name"),
        )));
    }
    match records::load(state.store.as_ref(), &ctx.account, &ctx.region, name) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(Box::new(text(
            StatusCode::NOT_FOUND,
            format!(
                "Repository '{name}' does not exist in account {}: create it first with `aws codecommit create-repository --repository-name {name}`",
                ctx.account
            ),
        ))),
        Err(e) => Err(Box::new(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read repository '{name}': {e}"),
        ))),
    }
}

async fn info_refs(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let ctx = context_of(request.headers());
    refs(&state, ctx, &name, query, request).await
}

async fn refs(
    state: &AppState,
    ctx: Context,
    name: &str,
    query: Option<String>,
    request: Request,
) -> Response {
    let query = query.unwrap_or_default();
    if query != "service=git-upload-pack" && query != "service=git-receive-pack" {
        // Only the smart protocol: the dumb one would need the repository's files exposed.
        return text(
            StatusCode::FORBIDDEN,
            "codepipeline-local serves git's smart HTTP protocol only".to_owned(),
        );
    }
    serve(state, ctx, name, "info/refs", &query, request, false).await
}

async fn upload_pack(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let ctx = context_of(request.headers());
    serve(&state, ctx, &name, "git-upload-pack", "", request, false).await
}

async fn receive_pack(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let ctx = context_of(request.headers());
    serve(&state, ctx, &name, "git-receive-pack", "", request, true).await
}

async fn serve(
    state: &AppState,
    ctx: Context,
    name: &str,
    service: &str,
    query: &str,
    request: Request,
    pushes: bool,
) -> Response {
    let (parts, body) = request.into_parts();
    let repo = match repository(state, &ctx, name) {
        Ok(r) => r,
        Err(answer) => return *answer,
    };
    let repos = &state.repositories;
    let before = if pushes {
        repos
            .references(&ctx.account, &ctx.region, &repo.id)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let backend = Backend {
        root: repos.project_root(&ctx.account, &ctx.region),
        path_info: format!("/{}.git/{service}", repo.id),
        service,
        query,
        user: ctx.account.clone(),
    };
    let (response, pushed) = backend.run(&parts, body, pushes).await;
    if pushed {
        after_push(state, &ctx, repo, &before).await;
    }
    response
}

/// One request to `git http-backend`: the folder it serves, the repository path inside it,
/// and which of git's services is asked for.
pub struct Backend<'a> {
    pub root: std::path::PathBuf,
    pub path_info: String,
    pub service: &'a str,
    pub query: &'a str,
    pub user: String,
}

impl Backend<'_> {
    /// Runs git for the request. A fetch's answer streams; a push's is sent once git is done,
    /// so whatever follows it (events) sees the repository as it now is. The flag says a push
    /// went through.
    pub async fn run(
        self,
        parts: &axum::http::request::Parts,
        body: Body,
        push: bool,
    ) -> (Response, bool) {
        let service = self.service;
        if parts.method == Method::POST {
            // A page of another origin cannot send this type without a preflight (CSRF).
            let expected = format!("application/x-{service}-request");
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if content_type != expected {
                return (
                    text(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        format!("git's {service} takes {expected} bodies"),
                    ),
                    false,
                );
            }
        }
        let header_text = |h: &str| {
            parts
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let mut command = git(&self.root);
        command
            .arg("http-backend")
            .env("GIT_PROJECT_ROOT", &self.root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("PATH_INFO", &self.path_info)
            .env("REQUEST_METHOD", parts.method.as_str())
            .env("QUERY_STRING", self.query)
            .env("CONTENT_TYPE", header_text("content-type"))
            .env("HTTP_CONTENT_ENCODING", header_text("content-encoding"))
            .env("GIT_PROTOCOL", header_text("git-protocol"))
            .env("REMOTE_USER", &self.user)
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => {
                return (
                    text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot run git http-backend (is git installed?): {e}"),
                    ),
                    false,
                )
            }
        };
        // The request body streams into git while git's answer streams out.
        if let Some(mut stdin) = child.stdin.take() {
            tokio::spawn(async move {
                let mut chunks = body.into_data_stream();
                while let Some(Ok(chunk)) = chunks.next().await {
                    if stdin.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
                let _ = stdin.shutdown().await;
            });
        }
        let Some(stdout) = child.stdout.take() else {
            return (
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "git gave no output".to_owned(),
                ),
                false,
            );
        };
        let mut reader = BufReader::new(stdout);
        let mut response = Response::builder();
        let mut status = StatusCode::OK;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("status") {
                status = value
                    .split(' ')
                    .next()
                    .and_then(|c| c.parse::<u16>().ok())
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
            } else {
                response = response.header(name, value);
            }
        }
        response = response.status(status);
        if !push {
            let stream = tokio_util::io::ReaderStream::new(reader);
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            let answer = response
                .body(Body::from_stream(stream))
                .unwrap_or_else(|e| text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
            return (answer, false);
        }
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer).await;
        let done = child.wait().await.is_ok_and(|s| s.success());
        let answer = response
            .body(Body::from(answer))
            .unwrap_or_else(|e| text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
        (answer, done && status.is_success())
    }
}

/// What a push changed: the events, and the default branch when the repository had none.
async fn after_push(
    state: &AppState,
    ctx: &Context,
    repo: RepositoryRecord,
    before: &[super::git::Reference],
) {
    let repos = &state.repositories;
    let Ok(after) = repos.references(&ctx.account, &ctx.region, &repo.id).await else {
        return;
    };
    let changes = events::between(before, &after);
    if changes.is_empty() {
        return;
    }
    let mut repo = repo;
    if repo.default_branch.is_none() {
        let pushed: Vec<&str> = changes
            .iter()
            .filter(|c| c.new.is_some())
            .filter_map(|c| c.name.strip_prefix("refs/heads/"))
            .collect();
        let first = pushed
            .iter()
            .find(|b| **b == "main")
            .or_else(|| pushed.first())
            .map(|b| b.to_string());
        if let Some(branch) = first {
            let _ = repos
                .set_head(&ctx.account, &ctx.region, &repo.id, &branch)
                .await;
            match super::repositories::update(state, ctx, &repo.name, |r| {
                r.default_branch = Some(branch.clone());
                Ok(())
            })
            .await
            {
                Ok(updated) => repo = updated,
                Err(e) => tracing::warn!(error = %e, "cannot set a repository's default branch"),
            }
        }
    }
    events::publish(state, ctx, &repo, &changes);
}
