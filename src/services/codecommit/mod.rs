//! AWS CodeCommit: repositories (`repositories`, kept in `records`), branches and commits
//! (`branches`, read from git), files and new commits (`files`), and the git remote (`remote`: `git clone`/`push` over smart
//! HTTP through `git http-backend`). Each repository is a bare git folder (`git`); pushes and
//! branch changes publish `CodeCommit Repository State Change` on the bus (`events`). Every
//! other operation of the model answers `NotImplementedException`.

mod branches;
pub mod events;
mod files;
pub mod git;
pub mod records;
pub mod remote;
pub mod repositories;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::call::Handler;
use crate::error::AwsError;
use crate::json_op;

/// CodeCommit's exception types.
pub mod codes {
    pub const BRANCH_DOES_NOT_EXIST: &str = "BranchDoesNotExistException";
    pub const BRANCH_NAME_EXISTS: &str = "BranchNameExistsException";
    pub const COMMIT_DOES_NOT_EXIST: &str = "CommitDoesNotExistException";
    pub const COMMIT_ID_DOES_NOT_EXIST: &str = "CommitIdDoesNotExistException";
    pub const DEFAULT_BRANCH_CANNOT_BE_DELETED: &str = "DefaultBranchCannotBeDeletedException";
    pub const FILE_CONTENT_REQUIRED: &str = "FileContentRequiredException";
    pub const FILE_DOES_NOT_EXIST: &str = "FileDoesNotExistException";
    pub const FILE_ENTRY_REQUIRED: &str = "FileEntryRequiredException";
    pub const FOLDER_DOES_NOT_EXIST: &str = "FolderDoesNotExistException";
    pub const INVALID_FILE_MODE: &str = "InvalidFileModeException";
    pub const INVALID_PATH: &str = "InvalidPathException";
    pub const PARENT_COMMIT_DOES_NOT_EXIST: &str = "ParentCommitDoesNotExistException";
    pub const PARENT_COMMIT_ID_OUTDATED: &str = "ParentCommitIdOutdatedException";
    pub const PARENT_COMMIT_ID_REQUIRED: &str = "ParentCommitIdRequiredException";
    pub const SAME_FILE_CONTENT: &str = "SameFileContentException";
    pub const SOURCE_FILE_OR_CONTENT_REQUIRED: &str = "SourceFileOrContentRequiredException";
    pub const INVALID_BRANCH_NAME: &str = "InvalidBranchNameException";
    pub const INVALID_CONTINUATION_TOKEN: &str = "InvalidContinuationTokenException";
    pub const INVALID_REPOSITORY_NAME: &str = "InvalidRepositoryNameException";
    pub const INVALID_RESOURCE_ARN: &str = "InvalidResourceArnException";
    pub const REPOSITORY_DOES_NOT_EXIST: &str = "RepositoryDoesNotExistException";
    pub const REPOSITORY_NAME_EXISTS: &str = "RepositoryNameExistsException";
    pub const TOO_MANY_TAGS: &str = "TooManyTagsException";
}

pub fn not_found(name: &str) -> AwsError {
    AwsError::new(
        codes::REPOSITORY_DOES_NOT_EXIST,
        format!("{name} does not exist"),
    )
}

/// A page of a CodeCommit list; a token of another list is CodeCommit's own error.
pub fn page(
    member: &str,
    token_member: &str,
    items: &[serde_json::Value],
    token: Option<&str>,
    limit: usize,
) -> Result<serde_json::Value, AwsError> {
    crate::services::paging::page_named(member, token_member, items, token, limit).map_err(|_| {
        AwsError::new(
            codes::INVALID_CONTINUATION_TOKEN,
            "The continuation token is not valid.",
        )
    })
}

pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HashMap::from([
            ("CreateRepository", json_op!(repositories::create)),
            ("GetRepository", json_op!(repositories::get)),
            ("BatchGetRepositories", json_op!(repositories::batch_get)),
            ("ListRepositories", json_op!(repositories::list)),
            ("DeleteRepository", json_op!(repositories::delete)),
            ("UpdateRepositoryName", json_op!(repositories::rename)),
            (
                "UpdateRepositoryDescription",
                json_op!(repositories::describe),
            ),
            ("TagResource", json_op!(repositories::tag)),
            ("UntagResource", json_op!(repositories::untag)),
            ("ListTagsForResource", json_op!(repositories::list_tags)),
            ("GetBranch", json_op!(branches::get)),
            ("ListBranches", json_op!(branches::list)),
            ("CreateBranch", json_op!(branches::create)),
            ("DeleteBranch", json_op!(branches::delete)),
            ("UpdateDefaultBranch", json_op!(branches::set_default)),
            ("GetCommit", json_op!(branches::get_commit)),
            ("GetFile", json_op!(files::get_file)),
            ("GetFolder", json_op!(files::get_folder)),
            ("PutFile", json_op!(files::put_file)),
            ("CreateCommit", json_op!(files::create_commit)),
            ("GetDifferences", json_op!(files::get_differences)),
        ])
    })
}
