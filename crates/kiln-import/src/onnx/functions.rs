//! Model-local functions (`ModelProto.functions`): a node calling one is replaced by the
//! function's body, imported in its place.
//!
//! The body's inputs and outputs take the caller's names; every value it defines inside gets
//! a name of its own (the calling node's name, then the function's, then its own), so two calls
//! never share values. An attribute of the body that refers to one of the function's
//! (`ref_attr_name`) takes the caller's value, else the function's default, and is dropped when
//! neither is given, as ONNX defines. Calls nest; the body is imported at the opset the
//! function declares for the default domain.

use super::proto::{AttributeProto, FunctionProto, NodeProto, ValueInfoProto};
use super::{Importer, NodeCtx};
use crate::ImportError;
use std::collections::HashMap;

/// Calls nested deeper than this are refused (a function that calls itself).
const MAX_DEPTH: usize = 32;

impl Importer {
    /// The model-local function `node` calls, if any.
    pub(crate) fn local_function(&self, node: &NodeProto) -> Option<FunctionProto> {
        let domain = node.domain.as_deref().unwrap_or("");
        self.local_functions
            .iter()
            .find(|f| {
                f.name.as_deref() == node.op_type.as_deref()
                    && f.domain.as_deref().unwrap_or("") == domain
            })
            .cloned()
    }

    /// Imports the body of `function` in place of the node `ctx` describes.
    pub(crate) fn inline_function(
        &mut self,
        ctx: &NodeCtx,
        function: &FunctionProto,
    ) -> Result<(), ImportError> {
        if self.function_depth >= MAX_DEPTH {
            return Err(ctx.err(format!(
                "model-local function calls nest deeper than {MAX_DEPTH}"
            )));
        }
        let name = function.name.clone().unwrap_or_default();
        let mut rename: HashMap<String, String> = HashMap::new();
        for (i, input) in function.input.iter().enumerate() {
            let outer = ctx.node.input.get(i).cloned().unwrap_or_default();
            rename.insert(input.clone(), outer);
        }
        for (i, output) in function.output.iter().enumerate() {
            let outer = ctx.node.output.get(i).cloned().unwrap_or_default();
            rename.insert(output.clone(), outer);
        }
        let prefix = format!("{}/{name}/", ctx.name);
        let local = |n: &str, rename: &HashMap<String, String>| -> String {
            match rename.get(n) {
                Some(outer) => outer.clone(),
                None if n.is_empty() => String::new(),
                None => format!("{prefix}{n}"),
            }
        };
        let caller: HashMap<&str, &AttributeProto> = ctx
            .node
            .attribute
            .iter()
            .filter_map(|a| Some((a.name.as_deref()?, a)))
            .collect();
        let defaults: HashMap<&str, &AttributeProto> = function
            .attribute_proto
            .iter()
            .filter_map(|a| Some((a.name.as_deref()?, a)))
            .collect();
        let mut body = vec![];
        for node in &function.node {
            let mut n = node.clone();
            n.input = node.input.iter().map(|i| local(i, &rename)).collect();
            n.output = node.output.iter().map(|o| local(o, &rename)).collect();
            n.name = Some(local(
                node.name.as_deref().unwrap_or("node"),
                &HashMap::new(),
            ));
            n.attribute = node
                .attribute
                .iter()
                .filter_map(|a| match &a.ref_attr_name {
                    None => Some(a.clone()),
                    Some(r) => caller
                        .get(r.as_str())
                        .or_else(|| defaults.get(r.as_str()))
                        .map(|&given| AttributeProto {
                            name: a.name.clone(),
                            ref_attr_name: None,
                            ..given.clone()
                        }),
                })
                .collect();
            body.push(n);
        }
        let outputs: Vec<ValueInfoProto> = ctx
            .node
            .output
            .iter()
            .map(|o| ValueInfoProto {
                name: Some(o.clone()),
                r#type: None,
            })
            .collect();
        let opset = function
            .opset_import
            .iter()
            .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
            .and_then(|o| o.version)
            .unwrap_or(self.opset);
        let outer_opset = std::mem::replace(&mut self.opset, opset);
        self.function_depth += 1;
        let result = self.walk(&body, &outputs);
        self.function_depth -= 1;
        self.opset = outer_opset;
        result
    }
}
