//! `stack` in `baton.yaml`: how the parts of the product call each other, as the team draws it
//! (the site calls the Patient API, which calls the Admissions API). Only the status page's
//! drawing reads it; deployments keep their own order (backend first).
//!
//! ```yaml
//! stack:
//!   depends_on:
//!     web: [patient-api]             # a component or a CloudHub application
//!     patient-api: [admissions-api]
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The `stack` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackConfig {
    /// A component or CloudHub application name to the names it calls. Names not running in an
    /// environment are ignored there (a manifest may add an application later).
    #[serde(default)]
    pub depends_on: BTreeMap<String, Vec<String>>,
}

impl StackConfig {
    /// Problems with this section, as (field under `stack`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for (name, callees) in &self.depends_on {
            if name.trim().is_empty() {
                problems.push((
                    "depends_on".into(),
                    "has an empty name: name a component or an application".into(),
                ));
            }
            let mut seen = BTreeSet::new();
            for (i, callee) in callees.iter().enumerate() {
                let field = format!("depends_on.{name}[{i}]");
                if callee.trim().is_empty() {
                    problems.push((field, "is empty: name a component or an application".into()));
                } else if callee == name {
                    problems.push((field, "names itself: a part cannot depend on itself".into()));
                } else if !seen.insert(callee) {
                    problems.push((field, format!("repeats {callee}")));
                }
            }
        }
        if let Some(cycle) = self.cycle() {
            problems.push((
                "depends_on".into(),
                format!(
                    "goes round in a circle ({}): remove one of these links",
                    cycle.join(" → ")
                ),
            ));
        }
        problems
    }

    /// A cycle of dependencies, as the names along it with the first repeated at the end.
    fn cycle(&self) -> Option<Vec<String>> {
        // Depth-first search with the path kept: a name met again on the path closes a cycle.
        fn visit<'a>(
            name: &'a str,
            graph: &'a BTreeMap<String, Vec<String>>,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|p| *p == name) {
                let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
                cycle.push(name.to_string());
                return Some(cycle);
            }
            if !done.insert(name) {
                return None;
            }
            path.push(name);
            for callee in graph.get(name).into_iter().flatten() {
                if callee != name
                    && let Some(cycle) = visit(callee, graph, path, done)
                {
                    return Some(cycle);
                }
            }
            path.pop();
            None
        }
        let mut done = BTreeSet::new();
        self.depends_on
            .keys()
            .find_map(|name| visit(name, &self.depends_on, &mut Vec::new(), &mut done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(yaml: &str) -> StackConfig {
        crate::manifest::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn a_chain_is_fine() {
        let s = stack("depends_on: {web: [patient-api], patient-api: [admissions-api]}");
        assert!(s.problems().is_empty(), "{:?}", s.problems());
    }

    #[test]
    fn a_cycle_is_named_along_its_path() {
        let s = stack("depends_on: {a: [b], b: [c], c: [a]}");
        let problems = s.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "depends_on");
        assert!(problems[0].1.contains("a → b → c → a"), "{}", problems[0].1);
    }

    #[test]
    fn self_repeats_and_blanks_name_their_field() {
        let s = stack("depends_on: {a: [a, b, b, ' ']}");
        let fields: Vec<String> = s.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(fields, ["depends_on.a[0]", "depends_on.a[2]", "depends_on.a[3]"]);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(crate::manifest::yaml::from_str::<StackConfig>("depend_on: {}").is_err());
    }
}
