//! How the kernel IR holds sizes: static numbers, or expressions over a function's symbols.
//!
//! Dispatch formation works over [`Symbolic`] sizes, so one formed function serves every value
//! of its open input dims; a function whose sizes are all constants is bound to [`Static`]
//! (the form every backend lowers today) with [`Dispatches::bind`].

use crate::{Dispatch, Dispatches, Epilogue, Op, Storage, View};
use kiln_types::sym::SymExpr;
use std::fmt::Debug;

/// A family of size types: extents (dims, offsets, element counts) and strides.
pub trait Sizes: Clone + Debug + PartialEq {
    type Extent: Clone + Debug + PartialEq;
    type Stride: Clone + Debug + PartialEq;
    /// Row-major strides of a contiguous `shape`.
    fn contiguous_strides(shape: &[Self::Extent]) -> Vec<Self::Stride>;
    /// True when `n` is the constant `c`.
    fn extent_is(n: &Self::Extent, c: u64) -> bool;
    fn stride_is(s: &Self::Stride, c: i64) -> bool;
    /// The text of a dim, offset or stride (symbolic ones in braces: `{h+1}`).
    fn extent_text(n: &Self::Extent) -> String;
    fn stride_text(s: &Self::Stride) -> String;
}

/// Sizes known when compiling: `u64` extents, `i64` strides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Static;

/// Sizes as [`SymExpr`]s over the function's symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbolic;

impl Sizes for Static {
    type Extent = u64;
    type Stride = i64;
    fn contiguous_strides(shape: &[u64]) -> Vec<i64> {
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        strides
    }
    fn extent_is(n: &u64, c: u64) -> bool {
        *n == c
    }
    fn stride_is(s: &i64, c: i64) -> bool {
        *s == c
    }
    fn extent_text(n: &u64) -> String {
        n.to_string()
    }
    fn stride_text(s: &i64) -> String {
        s.to_string()
    }
}

impl Sizes for Symbolic {
    type Extent = SymExpr;
    type Stride = SymExpr;
    fn contiguous_strides(shape: &[SymExpr]) -> Vec<SymExpr> {
        let mut strides = vec![SymExpr::from(1); shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1].clone() * shape[d + 1].clone();
        }
        strides
    }
    fn extent_is(n: &SymExpr, c: u64) -> bool {
        n.as_const() == Some(c as i64)
    }
    fn stride_is(s: &SymExpr, c: i64) -> bool {
        s.as_const() == Some(c)
    }
    fn extent_text(n: &SymExpr) -> String {
        match n.as_const() {
            Some(c) => c.to_string(),
            None => format!("{{{n}}}"),
        }
    }
    fn stride_text(s: &SymExpr) -> String {
        Self::extent_text(s)
    }
}

/// Evaluates symbolic sizes for bound symbols.
struct Binder<'a> {
    lookup: &'a dyn Fn(&str) -> Option<i64>,
}

impl Binder<'_> {
    fn extent(&self, e: &SymExpr) -> Result<u64, String> {
        e.eval(self.lookup)
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| format!("size {e} has no non-negative value"))
    }

    fn stride(&self, e: &SymExpr) -> Result<i64, String> {
        e.eval(self.lookup)
            .ok_or_else(|| format!("stride {e} has no value"))
    }

    fn view(&self, v: &View<Symbolic>) -> Result<View, String> {
        Ok(View {
            operand: v.operand,
            offset: self.extent(&v.offset)?,
            element_type: v.element_type,
            shape: v
                .shape
                .iter()
                .map(|d| self.extent(d))
                .collect::<Result<_, _>>()?,
            strides: v
                .strides
                .iter()
                .map(|s| self.stride(s))
                .collect::<Result<_, _>>()?,
        })
    }

    fn views(&self, vs: &[View<Symbolic>]) -> Result<Vec<View>, String> {
        vs.iter().map(|v| self.view(v)).collect()
    }

    fn epilogue(&self, e: &Option<Epilogue<Symbolic>>) -> Result<Option<Epilogue>, String> {
        e.as_ref()
            .map(|e| {
                Ok(Epilogue {
                    inputs: self.views(&e.inputs)?,
                    body: e.body.clone(),
                })
            })
            .transpose()
    }

    fn op(&self, op: &Op<Symbolic>) -> Result<Op, String> {
        Ok(match op {
            Op::Generic {
                shape,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body,
            } => Op::Generic {
                shape: shape
                    .iter()
                    .map(|d| self.extent(d))
                    .collect::<Result<_, _>>()?,
                reduction_dims: *reduction_dims,
                reduce: *reduce,
                inputs: self.views(inputs)?,
                outputs: self.views(outputs)?,
                body: body.clone(),
            },
            Op::MatMul { a, b, c, epilogue } => Op::MatMul {
                a: self.view(a)?,
                b: self.view(b)?,
                c: self.view(c)?,
                epilogue: self.epilogue(epilogue)?,
            },
            Op::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                groups,
                epilogue,
            } => Op::Conv2d {
                x: self.view(x)?,
                w: self.view(w)?,
                y: self.view(y)?,
                strides: *strides,
                pads: *pads,
                dilations: *dilations,
                groups: *groups,
                epilogue: self.epilogue(epilogue)?,
            },
            Op::Pool2d {
                x,
                y,
                max,
                kernel,
                strides,
                pads,
                count_include_pad,
                epilogue,
            } => Op::Pool2d {
                x: self.view(x)?,
                y: self.view(y)?,
                max: *max,
                kernel: *kernel,
                strides: *strides,
                pads: *pads,
                count_include_pad: *count_include_pad,
                epilogue: self.epilogue(epilogue)?,
            },
            Op::Softmax { x, y, epilogue } => Op::Softmax {
                x: self.view(x)?,
                y: self.view(y)?,
                epilogue: self.epilogue(epilogue)?,
            },
            Op::LayerNorm {
                x,
                y,
                epsilon,
                epilogue,
            } => Op::LayerNorm {
                x: self.view(x)?,
                y: self.view(y)?,
                epsilon: *epsilon,
                epilogue: self.epilogue(epilogue)?,
            },
            Op::Gather { data, indices, out } => Op::Gather {
                data: self.view(data)?,
                indices: self.view(indices)?,
                out: self.view(out)?,
            },
        })
    }
}

impl Dispatches<Op<Symbolic>, Symbolic> {
    /// Every symbol a size of this function reads, sorted, each once.
    pub fn symbols(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .storages
            .iter()
            .flat_map(|s| s.elements.symbols())
            .collect();
        for d in &self.dispatches {
            for v in d.kernel.views() {
                for e in std::iter::once(&v.offset).chain(&v.shape).chain(&v.strides) {
                    out.extend(e.symbols());
                }
            }
            if let Op::Generic { shape, .. } = &d.kernel {
                out.extend(shape.iter().flat_map(|e| e.symbols()));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The same dispatches with every size evaluated for the symbols `lookup` binds; an error
    /// names a size that is unbound, overflows or is negative. Dispatches whose output is
    /// empty at these sizes are dropped.
    ///
    /// ```
    /// use kiln_kernel::{Dispatches, Storage, StorageKind, Symbolic};
    /// use kiln_types::{sym::SymExpr, ElementType};
    /// let mut d: Dispatches<kiln_kernel::Op<Symbolic>, Symbolic> = Dispatches {
    ///     storages: vec![], dispatches: vec![], results: vec![],
    /// };
    /// d.add_storage(Storage { kind: StorageKind::Param(0), element_type: ElementType::F32,
    ///                         elements: SymExpr::parse("2*n").unwrap() });
    /// let bound = d.bind(&|s| (s == "n").then_some(3)).unwrap();
    /// assert_eq!(bound.storages[0].elements, 6);
    /// ```
    pub fn bind(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> Result<Dispatches, String> {
        let b = Binder { lookup };
        let storages = self
            .storages
            .iter()
            .map(|s| {
                Ok(Storage {
                    kind: s.kind,
                    element_type: s.element_type,
                    elements: b.extent(&s.elements)?,
                })
            })
            .collect::<Result<_, String>>()?;
        let mut dispatches = vec![];
        for d in &self.dispatches {
            let kernel = b.op(&d.kernel)?;
            if !kernel.is_empty() {
                dispatches.push(Dispatch {
                    operands: d.operands.clone(),
                    kernel,
                });
            }
        }
        Ok(Dispatches {
            storages,
            dispatches,
            results: self.results.clone(),
        })
    }
}
