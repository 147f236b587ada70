//! Binding a symbolic kernel IR's sizes: [`Dispatches::bind`].

use crate::{Dispatch, Dispatches, Epilogue, Op, Storage, View};
use kiln_types::sizes::Symbolic;
use kiln_types::sym::SymExpr;

/// Evaluates symbolic sizes for bound symbols.
struct Binder<'a> {
    lookup: &'a dyn Fn(&str) -> Option<i64>,
}

impl Binder<'_> {
    fn extent(&self, e: &SymExpr) -> Result<u64, String> {
        Symbolic::bind_extent(e, self.lookup)
    }

    fn stride(&self, e: &SymExpr) -> Result<i64, String> {
        Symbolic::bind_stride(e, self.lookup)
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
            Op::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                cell,
            } => Op::Recurrent {
                proj: self.view(proj)?,
                weights: self.view(weights)?,
                h0: self.view(h0)?,
                c0: self.view(c0)?,
                biases: self.view(biases)?,
                y: self.view(y)?,
                cell: cell.clone(),
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
