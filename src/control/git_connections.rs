//! `/_git/<owner>/<repo>`: git remotes standing for the GitHub, GitLab or Bitbucket
//! repositories behind CodeStarSourceConnection sources (their `FullRepositoryId`). The first
//! push creates one, as these repositories live outside AWS. A push is the connection's push
//! event: every branch or tag it creates or moves, with the files it changed, starts the
//! pipelines whose V2 triggers match (`source_events::start_matching`), as a webhook from the
//! provider would; the source action then archives the pushed tree. Served by the same
//! `git http-backend` runner as CodeCommit's remote.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::source_events::start_matching;
use crate::services::codecommit::git::{connection_names as names, CONNECTIONS as OWNER_SPACE};
use crate::services::codecommit::remote::{text, Backend};
use crate::services::codepipeline::domain::triggers::SourceEvent;
use crate::state::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_git/{owner}/{repo}/info/refs", get(info_refs))
        .route("/_git/{owner}/{repo}/git-upload-pack", post(upload_pack))
        .route("/_git/{owner}/{repo}/git-receive-pack", post(receive_pack))
}

async fn info_refs(
    State(state): State<Arc<AppState>>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let query = query.unwrap_or_default();
    if query != "service=git-upload-pack" && query != "service=git-receive-pack" {
        return text(
            StatusCode::FORBIDDEN,
            "codepipeline-local serves git's smart HTTP protocol only".to_owned(),
        );
    }
    let creates = query == "service=git-receive-pack";
    serve(
        &state,
        &owner,
        &repo,
        "info/refs",
        &query,
        request,
        creates,
        false,
    )
    .await
}

async fn upload_pack(
    State(state): State<Arc<AppState>>,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    serve(
        &state,
        &owner,
        &repo,
        "git-upload-pack",
        "",
        request,
        false,
        false,
    )
    .await
}

async fn receive_pack(
    State(state): State<Arc<AppState>>,
    Path((owner, repo)): Path<(String, String)>,
    request: Request,
) -> Response {
    serve(
        &state,
        &owner,
        &repo,
        "git-receive-pack",
        "",
        request,
        true,
        true,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    state: &AppState,
    owner: &str,
    repo: &str,
    service: &str,
    query: &str,
    request: Request,
    creates: bool,
    pushes: bool,
) -> Response {
    let Some((owner, repo)) = names(owner, repo) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!("'{owner}/{repo}' is not a repository name"),
        );
    };
    let repos = &state.repositories;
    let dir = repos.path(OWNER_SPACE, &owner, &repo);
    if !dir.is_dir() {
        if !creates {
            return text(
                StatusCode::NOT_FOUND,
                format!("Repository '{owner}/{repo}' does not exist yet: push to it first (git push http://<this server>/_git/{owner}/{repo} main)"),
            );
        }
        if let Err(e) = repos.create(OWNER_SPACE, &owner, &repo).await {
            return text(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
    }
    let before = if pushes {
        repos
            .references(OWNER_SPACE, &owner, &repo)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (parts, body) = request.into_parts();
    let backend = Backend {
        root: repos.project_root(OWNER_SPACE, &owner),
        path_info: format!("/{repo}.git/{service}"),
        service,
        query,
        user: owner.clone(),
    };
    let (response, pushed) = backend.run(&parts, body, pushes).await;
    if pushed {
        after_push(state, &owner, &repo, &before).await;
    }
    response
}

/// A push event for each branch or tag the push created or moved.
async fn after_push(
    state: &AppState,
    owner: &str,
    repo: &str,
    before: &[crate::services::codecommit::git::Reference],
) {
    let repos = &state.repositories;
    let Ok(after) = repos.references(OWNER_SPACE, owner, repo).await else {
        return;
    };
    for change in crate::services::codecommit::events::between(before, &after) {
        let Some(commit) = change.new.clone() else {
            continue;
        };
        let files: Vec<String> = repos
            .differences(OWNER_SPACE, owner, repo, change.old.as_deref(), &commit)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.path)
            .collect();
        let event = SourceEvent {
            kind: Some("push".to_owned()),
            connection_arn: None,
            repository: format!("{owner}/{repo}"),
            branch: change.name.strip_prefix("refs/heads/").map(str::to_owned),
            tag: change.name.strip_prefix("refs/tags/").map(str::to_owned),
            file_paths: files,
            commit_id: Some(commit.clone()),
            event: None,
        };
        match start_matching(state, &event, &commit).await {
            Ok((started, _)) if !started.is_empty() => {
                tracing::info!(repository = %event.repository, reference = %change.name, started = started.len(), "a push to a connection's repository started pipelines")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot start pipelines for a push"),
        }
    }
}
