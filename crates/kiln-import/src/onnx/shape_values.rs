//! Shape subgraphs over symbolic dims, folded while importing.
//!
//! Exporters compute shapes from shapes: `Shape → Gather → Unsqueeze → Concat → Reshape`,
//! `Shape → Slice → Mul`, `Size`. When every dim is static those fold to constants like any
//! other all-constant op. When a dim is symbolic the values are sizes (`{batch}`, `{h/2}`):
//! they are tracked here as a [`ShapeValue`], a 0-D or 1-D list of [`SymExpr`], and folded
//! symbolically. The ops that take a shape (Reshape, Expand, ConstantOfShape) read them back
//! through [`Importer::shape_value`], so the program gets symbolic types, not run-time shape
//! arithmetic.
//!
//! A symbolic shape value still needs a value in the tensor program, for nodes that refer to
//! it. That value is a placeholder, never given to the constant folder; if anything the model
//! computes at run time reads it, the control program computes it on the host before the
//! call (`staging.rs`), or, where it cannot, the import fails naming the node (see
//! [`Importer::check_placeholders`]).

use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{Dim, SymExpr, ValueId};
use kiln_types::{ElementType, HostTensor};

/// The elements of a 0-D or 1-D integer tensor that holds sizes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ShapeValue {
    pub values: Vec<SymExpr>,
    /// 0-D (one element) rather than 1-D.
    pub scalar: bool,
}

/// Constants above this many elements are not read as shape values.
const MAX_SHAPE_LEN: usize = 64;

impl Importer {
    /// `v` as a shape value: a small integer constant, or a symbolic value folded here.
    pub(crate) fn shape_value(&self, v: ValueId) -> Option<ShapeValue> {
        if let Some(s) = self.sym_values.get(&v) {
            return Some(s.clone());
        }
        let t = self.const_of(v)?;
        let int = matches!(t.element_type, ElementType::I64 | ElementType::I32);
        if !int || t.shape.len() > 1 || t.element_count() > MAX_SHAPE_LEN {
            return None;
        }
        Some(ShapeValue {
            values: t.to_i64().into_iter().map(SymExpr::from).collect(),
            scalar: t.shape.is_empty(),
        })
    }

    /// A value holding `s`: a constant when every element is known, else a placeholder that
    /// only shape-reading ops may consume.
    pub(crate) fn emit_shape_value(&mut self, ctx: &NodeCtx, s: ShapeValue) -> ValueId {
        let shape: Vec<usize> = if s.scalar {
            vec![]
        } else {
            vec![s.values.len()]
        };
        let known: Option<Vec<i64>> = s.values.iter().map(SymExpr::as_const).collect();
        match known {
            Some(values) => self.constant(HostTensor::from_i64(&shape, &values), &ctx.name),
            None => {
                let zeros = vec![0; s.values.len()];
                let (v, _) = self.placeholder(HostTensor::from_i64(&shape, &zeros), &ctx.name);
                self.sym_values.insert(v, s);
                v
            }
        }
    }

    /// Folds the node when it computes sizes from symbolic sizes (every input a shape value,
    /// one of them symbolic); `None` leaves it to its builder.
    pub(crate) fn fold_shape_node(
        &mut self,
        ctx: &NodeCtx,
        inputs: &[Option<ValueId>],
    ) -> Result<Option<ValueId>, ImportError> {
        let given: Vec<ValueId> = inputs.iter().flatten().copied().collect();
        if !given.iter().any(|v| self.sym_values.contains_key(v)) {
            return Ok(None);
        }
        // Inputs are positional: an omitted one before a given one would shift them.
        let last = inputs.iter().rposition(Option::is_some).unwrap_or(0);
        if inputs[..last].iter().any(Option::is_none) {
            return Ok(None);
        }
        let Some(args) = given
            .iter()
            .map(|&v| self.shape_value(v))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(None);
        };
        Ok(fold(ctx, &args)?.map(|s| self.emit_shape_value(ctx, s)))
    }

    /// The symbolic shape values that the current function's ops read as data, or that it
    /// (or `roots`) returns, in value order.
    pub(crate) fn live_placeholders(&self, roots: &[ValueId]) -> Vec<ValueId> {
        let f = &self.func;
        let mut live = vec![false; f.values.len()];
        for v in f
            .results
            .iter()
            .map(|r| r.value)
            .chain(roots.iter().copied())
        {
            live[v.index()] = true;
        }
        for op in f.ops.iter().rev() {
            if op.results.iter().any(|r| live[r.index()]) {
                for v in &op.operands {
                    live[v.index()] = true;
                }
            }
        }
        let mut out: Vec<ValueId> = self
            .sym_values
            .keys()
            .copied()
            .filter(|v| live[v.index()])
            .collect();
        out.sort();
        out
    }

    /// Fails naming the node when a symbolic shape value is read by an op the program runs
    /// and no size it holds can be computed from the function's inputs.
    pub(crate) fn check_placeholders(&self) -> Result<(), ImportError> {
        let Some(&v) = self.live_placeholders(&[]).first() else {
            return Ok(());
        };
        Err(self.unavailable_sizes(v, None))
    }

    /// The error for shape value `v`, read as data, when its sizes cannot be computed (`why`).
    pub(crate) fn unavailable_sizes(&self, v: ValueId, why: Option<&str>) -> ImportError {
        let s = &self.sym_values[&v];
        let values: Vec<String> = s.values.iter().map(|e| e.to_string()).collect();
        let node = self
            .func
            .ops
            .iter()
            .find(|op| op.results.contains(&v))
            .map_or("?", |op| op.loc.as_str());
        ImportError::Unsupported(format!(
            "the sizes [{}] computed by node '{node}' are read as data by the model, and {} (bind the symbols with --kiln-bind-dim=NAME=SIZE)",
            values.join(", "),
            why.unwrap_or("kiln cannot compute them at run time here")
        ))
    }
}

/// The `Shape` and `Size` builder: the input's dims, static or symbolic, as sizes.
pub(crate) fn shape_or_size(
    im: &mut Importer,
    ctx: &NodeCtx,
    inputs: &[Option<ValueId>],
) -> Result<Vec<Option<ValueId>>, ImportError> {
    let x = super::ops::arg(ctx, inputs, 0)?;
    let dims = &im.ty(x).dims;
    let s = if ctx.op_type == "Size" {
        ShapeValue {
            values: vec![kiln_ir::dims_product(dims)],
            scalar: true,
        }
    } else {
        let r = dims.len() as i64;
        let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let start = clampi(ctx.int("start", 0));
        let end = clampi(ctx.int("end", r)).max(start);
        ShapeValue {
            values: dims[start..end].iter().map(Dim::expr).collect(),
            scalar: false,
        }
    };
    Ok(vec![Some(im.emit_shape_value(ctx, s))])
}

/// The ops exporters put in shape subgraphs, over shape values; `None` for any other op or
/// form, which then fails in its builder with the usual message.
fn fold(ctx: &NodeCtx, args: &[ShapeValue]) -> Result<Option<ShapeValue>, ImportError> {
    let consts = |i: usize| -> Option<Vec<i64>> {
        args.get(i)?.values.iter().map(SymExpr::as_const).collect()
    };
    Ok(match (ctx.op_type, args) {
        ("Identity" | "Cast", [a]) => {
            let to = ctx.int("to", 7);
            (ctx.op_type == "Identity" || to == 7 || to == 6).then(|| a.clone())
        }
        ("Unsqueeze", [a, ..]) if a.scalar && one_axis(ctx, args) => Some(ShapeValue {
            values: a.values.clone(),
            scalar: false,
        }),
        ("Squeeze", [a, ..]) if !a.scalar && a.values.len() == 1 && one_axis(ctx, args) => {
            Some(ShapeValue {
                values: a.values.clone(),
                scalar: true,
            })
        }
        ("Reshape", [a, _]) if a.values.len() == 1 => match consts(1).as_deref() {
            Some([]) => Some(ShapeValue {
                values: a.values.clone(),
                scalar: true,
            }),
            Some([1] | [-1]) => Some(ShapeValue {
                values: a.values.clone(),
                scalar: false,
            }),
            _ => None,
        },
        ("Concat", _) if args.iter().all(|a| !a.scalar) => Some(ShapeValue {
            values: args.iter().flat_map(|a| a.values.clone()).collect(),
            scalar: false,
        }),
        ("Gather", [a, _]) if !a.scalar && ctx.int("axis", 0) == 0 => {
            let Some(indices) = consts(1) else {
                return Ok(None);
            };
            let n = a.values.len() as i64;
            let mut values = vec![];
            for i in indices {
                let at = if i < 0 { i + n } else { i };
                let e = usize::try_from(at)
                    .ok()
                    .and_then(|at| a.values.get(at))
                    .ok_or_else(|| ctx.err(format!("index {i} is out of range for {n} sizes")))?;
                values.push(e.clone());
            }
            Some(ShapeValue {
                values,
                scalar: args[1].scalar,
            })
        }
        ("Slice", [a, ..]) if !a.scalar && ctx.opset >= 10 => {
            let (Some(starts), Some(ends)) = (consts(1), consts(2)) else {
                return Ok(None);
            };
            let steps = consts(4).unwrap_or(vec![1]);
            let ([start], [end], [step]) = (&starts[..], &ends[..], &steps[..]) else {
                return Ok(None);
            };
            if *step <= 0 || consts(3).is_some_and(|a| a != [0] && a != [-1]) {
                return Ok(None);
            }
            let n = a.values.len() as i64;
            let norm = |v: i64| (if v < 0 { v.saturating_add(n) } else { v }).clamp(0, n);
            let (s, e) = (norm(*start), norm(*end));
            Some(ShapeValue {
                values: (s..e.max(s))
                    .step_by(*step as usize)
                    .map(|i| a.values[i as usize].clone())
                    .collect(),
                scalar: false,
            })
        }
        ("Add" | "Sub" | "Mul" | "Div", [a, b]) => {
            let len = a.values.len().max(b.values.len());
            let at = |s: &ShapeValue, i: usize| {
                s.values[if s.values.len() == 1 { 0 } else { i }].clone()
            };
            if ![1, len].contains(&a.values.len()) || ![1, len].contains(&b.values.len()) {
                return Ok(None);
            }
            let mut values = vec![];
            for i in 0..len {
                let (x, y) = (at(a, i), at(b, i));
                values.push(match ctx.op_type {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    // ONNX's integer division truncates: known values divide as they are;
                    // symbolic sizes are non-negative, so floor division is the same.
                    _ => match (x.as_const(), y.as_const()) {
                        (Some(n), Some(d)) if d != 0 => match n.checked_div(d) {
                            Some(q) => SymExpr::from(q),
                            None => return Ok(None),
                        },
                        (None, Some(d)) if d > 0 => x.floor_div(d),
                        _ => match x.exact_div(&y) {
                            Some(q) => q,
                            None => return Ok(None),
                        },
                    },
                });
            }
            Some(ShapeValue {
                values,
                scalar: a.scalar && b.scalar,
            })
        }
        _ => None,
    })
}

/// Whether an Unsqueeze or Squeeze of a shape value names one axis, 0 or -1 (the only axis a
/// 0-D or one-element 1-D value has), as an attribute or (from opset 13) an input.
fn one_axis(ctx: &NodeCtx, args: &[ShapeValue]) -> bool {
    let axes: Option<Vec<i64>> = if ctx.opset >= 13 {
        args.get(1)
            .map(|a| a.values.iter().map(SymExpr::as_const).collect())
            .unwrap_or(Some(vec![0]))
    } else {
        Some(ctx.ints("axes").unwrap_or(vec![0]))
    };
    matches!(axes.as_deref(), Some([0] | [-1]))
}
