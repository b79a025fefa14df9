//! Buildspec version 0.2, as the CodeBuild buildspec reference defines the parts a local build
//! can honour: `env` (`shell`, `variables`, `exported-variables`; `parameter-store` and
//! `secrets-manager` are refused, since nothing offline can answer them), the four command
//! phases with `commands`, `finally`, `on-failure` and `runtime-versions`, and `artifacts`
//! (`files`, `base-directory`, `discard-paths`, `exclude-paths`, `name`, and
//! `secondary-artifacts` by identifier). Parsed by yaml-rust2.

use yaml_rust2::{Yaml, YamlLoader};

pub const PHASES: [&str; 4] = ["install", "pre_build", "build", "post_build"];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Phase {
    pub commands: Vec<String>,
    pub finally: Vec<String>,
    /// `on-failure: CONTINUE` goes on to the next phase; ABORT (the default) does not.
    pub continue_on_failure: bool,
    pub runtime_versions: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Artifacts {
    pub files: Vec<String>,
    pub base_directory: Option<String>,
    pub discard_paths: bool,
    pub exclude_paths: Vec<String>,
    pub name: Option<String>,
    /// `secondary-artifacts`, by identifier (a pipeline maps them to its output artifacts).
    pub secondary: Vec<(String, Artifacts)>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Buildspec {
    pub variables: Vec<(String, String)>,
    pub exported: Vec<String>,
    /// The four phases in order, absent ones empty.
    pub phases: Vec<(String, Phase)>,
    pub artifacts: Option<Artifacts>,
}

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Array(items) => items.iter().filter_map(text).collect(),
        other => text(other).into_iter().collect(),
    }
}

fn yes(y: &Yaml) -> bool {
    matches!(y, Yaml::Boolean(true))
        || text(y).is_some_and(|t| t.eq_ignore_ascii_case("yes") || t == "true")
}

/// Parses a buildspec; the error says what is wrong, as a build's failure message.
pub fn parse(source: &str) -> Result<Buildspec, String> {
    let docs = YamlLoader::load_from_str(source).map_err(|e| format!("YAML_FILE_ERROR: {e}"))?;
    let root = docs.into_iter().next().unwrap_or(Yaml::Null);
    if !matches!(root, Yaml::Hash(_)) {
        return Err("YAML_FILE_ERROR: the buildspec is not a YAML map".to_owned());
    }
    let version = text(&root["version"]).unwrap_or_default();
    if version != "0.2" && version != "0.1" {
        return Err(format!(
            "YAML_FILE_ERROR: invalid buildspec version '{version}': codepipeline-local runs version 0.2"
        ));
    }
    let env = &root["env"];
    for unavailable in ["parameter-store", "secrets-manager"] {
        if !env[unavailable].is_badvalue() && !env[unavailable].is_null() {
            return Err(format!(
                "env/{unavailable} is not available offline: codepipeline-local cannot read AWS Systems Manager or Secrets Manager; use env/variables"
            ));
        }
    }
    let mut spec = Buildspec::default();
    if let Yaml::Hash(vars) = &env["variables"] {
        for (k, v) in vars {
            if let (Some(k), Some(v)) = (text(k), text(v)) {
                spec.variables.push((k, v));
            }
        }
    }
    spec.exported = list(&env["exported-variables"]);
    for name in PHASES {
        let p = &root["phases"][name];
        let mut phase = Phase {
            commands: list(&p["commands"]),
            finally: list(&p["finally"]),
            continue_on_failure: text(&p["on-failure"]).is_some_and(|v| v == "CONTINUE"),
            runtime_versions: Vec::new(),
        };
        if let Yaml::Hash(versions) = &p["runtime-versions"] {
            for (k, v) in versions {
                if let (Some(k), Some(v)) = (text(k), text(v)) {
                    phase.runtime_versions.push((k, v));
                }
            }
        }
        spec.phases.push((name.to_owned(), phase));
    }
    let a = &root["artifacts"];
    if matches!(a, Yaml::Hash(_)) {
        let mut artifacts = artifacts_of(a);
        if let Yaml::Hash(secondary) = &a["secondary-artifacts"] {
            for (id, block) in secondary {
                if let Some(id) = text(id) {
                    artifacts.secondary.push((id, artifacts_of(block)));
                }
            }
        }
        spec.artifacts = Some(artifacts);
    }
    Ok(spec)
}

fn artifacts_of(a: &Yaml) -> Artifacts {
    Artifacts {
        files: list(&a["files"]),
        base_directory: text(&a["base-directory"]),
        discard_paths: yes(&a["discard-paths"]),
        exclude_paths: list(&a["exclude-paths"]),
        name: text(&a["name"]),
        secondary: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_buildspec_parses() {
        let spec = parse(
            "version: 0.2\nenv:\n  variables:\n    NODE_ENV: test\n  exported-variables:\n    - APP_VERSION\nphases:\n  install:\n    runtime-versions:\n      nodejs: 20\n    commands:\n      - npm install\n  build:\n    commands:\n      - npm test\n    finally:\n      - echo done\n    on-failure: CONTINUE\n  post_build:\n    commands:\n      - zip -r app.zip *\nartifacts:\n  files:\n    - app.zip\n  discard-paths: yes\n",
        )
        .unwrap();
        assert_eq!(spec.variables, [("NODE_ENV".to_owned(), "test".to_owned())]);
        assert_eq!(spec.exported, ["APP_VERSION"]);
        assert_eq!(spec.phases[0].1.commands, ["npm install"]);
        assert_eq!(
            spec.phases[0].1.runtime_versions,
            [("nodejs".to_owned(), "20".to_owned())]
        );
        assert!(spec.phases[2].1.continue_on_failure);
        assert_eq!(spec.phases[2].1.finally, ["echo done"]);
        let artifacts = spec.artifacts.unwrap();
        assert_eq!(artifacts.files, ["app.zip"]);
        assert!(artifacts.discard_paths);
    }

    #[test]
    fn secondary_artifacts_are_kept_by_identifier() {
        let spec = parse(
            "version: 0.2\nartifacts:\n  files: ['**/*']\n  secondary-artifacts:\n    web:\n      base-directory: $CODEBUILD_SRC_DIR/site\n      files:\n        - index.html\n    docs:\n      files: README\n      discard-paths: yes\n",
        )
        .unwrap();
        let artifacts = spec.artifacts.unwrap();
        assert_eq!(artifacts.files, ["**/*"]);
        let ids: Vec<&str> = artifacts
            .secondary
            .iter()
            .map(|(i, _)| i.as_str())
            .collect();
        assert_eq!(ids, ["web", "docs"]);
        assert_eq!(
            artifacts.secondary[0].1.base_directory.as_deref(),
            Some("$CODEBUILD_SRC_DIR/site")
        );
        assert!(artifacts.secondary[1].1.discard_paths);
    }

    #[test]
    fn what_cannot_run_offline_or_is_not_a_buildspec_is_refused() {
        assert!(parse("version: 0.2\nenv:\n  parameter-store:\n    X: /p\n")
            .unwrap_err()
            .contains("not available offline"));
        assert!(parse("version: 9\n").unwrap_err().contains("version"));
        assert!(parse("- a list").is_err());
        assert!(parse("version: 0.2\nphases: [unclosed").is_err());
    }
}
