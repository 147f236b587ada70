//! Model-local functions (`ModelProto.functions`): a node calling one is replaced by the
//! function's body, imported in its place.
//!
//! The body's inputs and outputs take the caller's names; every value it defines inside gets
//! a name of its own (the calling node's name, then the function's, then its own), so two calls
//! never share values. An attribute of the body that refers to one of the function's
//! (`ref_attr_name`) takes the caller's value, else the function's default, and is dropped when
//! neither is given, as ONNX defines. Calls nest; the body is imported at the opset the
//! function declares for the default domain.

use super::proto::{
    AttributeProto, FunctionProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
};
use super::{Importer, NodeCtx};
use crate::ImportError;
use std::collections::HashMap;

/// Calls nested deeper than this are refused (a function that calls itself).
const MAX_DEPTH: usize = 32;

/// One call of a function: how its body's names and attribute references become the
/// caller's.
struct Call<'a> {
    /// Prefixed to every name the body defines.
    prefix: String,
    /// The function's inputs and outputs, by the caller's names.
    rename: HashMap<String, String>,
    caller: HashMap<&'a str, &'a AttributeProto>,
    defaults: HashMap<&'a str, &'a AttributeProto>,
}

impl Call<'_> {
    fn name(&self, n: &str) -> String {
        match self.rename.get(n) {
            Some(outer) => outer.clone(),
            None if n.is_empty() => String::new(),
            None => format!("{}{n}", self.prefix),
        }
    }

    /// A body node with the call's names, its attribute references resolved, and its
    /// subgraphs (an If's branches, a Loop's body) likewise, since they see the body's names.
    fn node(&self, node: &NodeProto) -> NodeProto {
        let mut n = node.clone();
        n.input = node.input.iter().map(|i| self.name(i)).collect();
        n.output = node.output.iter().map(|o| self.name(o)).collect();
        let own = node.name.as_deref().filter(|n| !n.is_empty());
        let own = own.or(node.output.first().map(String::as_str));
        n.name = Some(format!("{}{}", self.prefix, own.unwrap_or("node")));
        n.attribute = node
            .attribute
            .iter()
            .filter_map(|a| match &a.ref_attr_name {
                None => Some(a.clone()),
                Some(r) => self
                    .caller
                    .get(r.as_str())
                    .or_else(|| self.defaults.get(r.as_str()))
                    .map(|&given| AttributeProto {
                        name: a.name.clone(),
                        ref_attr_name: None,
                        ..given.clone()
                    }),
            })
            .map(|mut a| {
                a.g = a.g.as_ref().map(|g| self.graph(g));
                a
            })
            .collect();
        n
    }

    fn graph(&self, g: &GraphProto) -> GraphProto {
        let value = |v: &ValueInfoProto| ValueInfoProto {
            name: v.name.as_deref().map(|n| self.name(n)),
            r#type: v.r#type.clone(),
        };
        GraphProto {
            node: g.node.iter().map(|n| self.node(n)).collect(),
            initializer: g
                .initializer
                .iter()
                .map(|t| TensorProto {
                    name: t.name.as_deref().map(|n| self.name(n)),
                    ..t.clone()
                })
                .collect(),
            input: g.input.iter().map(value).collect(),
            output: g.output.iter().map(value).collect(),
            value_info: g.value_info.iter().map(value).collect(),
            name: g.name.clone(),
        }
    }
}

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
        let call = Call {
            prefix: format!("{}/{name}/", ctx.name),
            rename,
            caller,
            defaults,
        };
        let body: Vec<NodeProto> = function.node.iter().map(|n| call.node(n)).collect();
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
