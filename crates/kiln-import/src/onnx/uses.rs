//! Which names a graph still reads: the live values at a cut of the import into segments
//! ([`super::staging`]).

use super::proto::{GraphProto, NodeProto, ValueInfoProto};
use std::collections::{HashMap, HashSet};

/// Remaining reads of each name, per graph being walked (outermost first). A name is live at
/// a cut while any graph still has a read of it ahead.
#[derive(Default)]
pub(crate) struct Uses {
    levels: Vec<HashMap<String, usize>>,
}

impl Uses {
    /// Starts walking a graph with these nodes and outputs.
    pub fn push(&mut self, nodes: &[NodeProto], outputs: &[ValueInfoProto]) {
        let mut counts = HashMap::new();
        for n in nodes {
            for name in node_reads(n) {
                *counts.entry(name).or_insert(0) += 1;
            }
        }
        for o in outputs {
            *counts
                .entry(o.name.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
        self.levels.push(counts);
    }

    /// Forgets every graph (the import is done: nothing is read any more).
    pub fn clear(&mut self) {
        self.levels.clear();
    }

    pub fn pop(&mut self) {
        self.levels.pop();
    }

    /// Counts `node`'s reads as done (in the innermost graph).
    pub fn done(&mut self, node: &NodeProto) {
        if let Some(level) = self.levels.last_mut() {
            for name in node_reads(node) {
                if let Some(c) = level.get_mut(&name) {
                    *c = c.saturating_sub(1);
                }
            }
        }
    }

    pub(crate) fn live(&self, name: &str) -> bool {
        self.levels
            .iter()
            .any(|l| l.get(name).is_some_and(|&c| c > 0))
    }
}

/// The names `node` reads: its inputs and what its subgraphs read from outside themselves.
fn node_reads(node: &NodeProto) -> Vec<String> {
    let mut out: Vec<String> = node
        .input
        .iter()
        .filter(|n| !n.is_empty())
        .cloned()
        .collect();
    for a in &node.attribute {
        if let Some(g) = &a.g {
            out.extend(free_names(g));
        }
    }
    out
}

/// Names a subgraph reads that it does not define.
fn free_names(g: &GraphProto) -> HashSet<String> {
    let mut defined: HashSet<String> = g
        .input
        .iter()
        .chain(&g.output)
        .filter_map(|i| i.name.clone())
        .collect();
    defined.retain(|n| g.input.iter().any(|i| i.name.as_deref() == Some(n)));
    defined.extend(g.initializer.iter().filter_map(|i| i.name.clone()));
    let mut free = HashSet::new();
    for n in &g.node {
        for r in node_reads(n) {
            if !defined.contains(&r) {
                free.insert(r);
            }
        }
        defined.extend(n.output.iter().cloned());
    }
    for o in &g.output {
        let name = o.name.clone().unwrap_or_default();
        if !defined.contains(&name) {
            free.insert(name);
        }
    }
    free
}
