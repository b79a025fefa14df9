//! Variable references in action configuration: `#{namespace.Key}` for an upstream action's
//! output variables, `#{codepipeline.PipelineExecutionId}`, and V2 pipeline variables
//! `#{variables.name}`. Finding references (for declaration checks) and resolving them.

use std::collections::BTreeMap;

/// What a reference can resolve against while an execution runs.
pub struct Scope<'a> {
    pub execution_id: &'a str,
    pub pipeline_variables: &'a BTreeMap<String, String>,
    pub namespaces: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// Every `(namespace, key)` referenced in `text`, in order.
pub fn references(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        if let Some((ns, key)) = inner.split_once('.') {
            if !ns.is_empty() && !key.is_empty() {
                out.push((ns.to_owned(), key.to_owned()));
            }
        }
        rest = &after[end + 1..];
    }
    out
}

/// `text` with every reference replaced, or the first reference that cannot be resolved.
pub fn resolve(text: &str, scope: &Scope) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let value = match inner.split_once('.') {
            Some(("codepipeline", "PipelineExecutionId")) => Some(scope.execution_id.to_owned()),
            Some(("variables", name)) => scope.pipeline_variables.get(name).cloned(),
            Some((ns, key)) => scope
                .namespaces
                .get(ns)
                .and_then(|vars| vars.get(key))
                .cloned(),
            None => None,
        };
        match value {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "The variable reference #{{{inner}}} could not be resolved"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_every_kind_of_reference() {
        let vars = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let ns = BTreeMap::from([(
            "Src".to_owned(),
            BTreeMap::from([("ETag".to_owned(), "abc".to_owned())]),
        )]);
        let scope = Scope {
            execution_id: "e-1",
            pipeline_variables: &vars,
            namespaces: &ns,
        };
        assert_eq!(
            resolve(
                "#{variables.env}-#{Src.ETag}-#{codepipeline.PipelineExecutionId}",
                &scope
            )
            .unwrap(),
            "prod-abc-e-1"
        );
        assert!(resolve("#{Nope.X}", &scope).is_err());
        assert_eq!(
            resolve("plain #{unclosed", &scope).unwrap(),
            "plain #{unclosed"
        );
    }

    #[test]
    fn finds_references() {
        assert_eq!(
            references("a #{Build.Version} b #{variables.x}"),
            vec![
                ("Build".into(), "Version".into()),
                ("variables".into(), "x".into())
            ]
        );
    }
}
