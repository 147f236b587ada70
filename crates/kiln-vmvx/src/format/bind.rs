//! Kernels whose sizes are known only at run time: their symbols, and [`Kernel::bind`], which
//! makes the static kernel a dispatch runs once the symbols have values, with workgroup tiles
//! chosen for those sizes (so its workgroup count is the bound kernel's).

use super::*;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kiln_types::sizes::Symbolic;
use kiln_types::sym::SymExpr;

/// Evaluates sizes for bound symbols.
struct Binder<'a> {
    lookup: &'a dyn Fn(&str) -> Option<i64>,
}

impl Binder<'_> {
    fn extent(&self, e: &SymExpr) -> Result<u64, String> {
        Symbolic::bind_extent(e, self.lookup)
    }

    fn extents(&self, es: &[SymExpr]) -> Result<Vec<u64>, String> {
        es.iter().map(|e| self.extent(e)).collect()
    }

    fn view(&self, v: &View<Symbolic>) -> Result<View, String> {
        Ok(View {
            binding: v.binding,
            offset: self.extent(&v.offset)?,
            element_type: v.element_type,
            shape: self.extents(&v.shape)?,
            strides: v
                .strides
                .iter()
                .map(|s| {
                    s.eval(self.lookup)
                        .ok_or_else(|| kiln_types::message!("stride {s} has no value"))
                })
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
}

impl Kernel<Symbolic> {
    /// Every symbol the kernel's sizes read, sorted, each once: the values a dispatch of it
    /// passes, in this order.
    pub fn symbols(&self) -> Vec<String> {
        let mut sizes: Vec<&SymExpr> = vec![];
        for v in self.views() {
            sizes.extend(
                core::iter::once(&v.offset)
                    .chain(&v.shape)
                    .chain(&v.strides),
            );
        }
        if let KernelOp::Generic { shape, .. } = &self.op {
            sizes.extend(shape);
        }
        // Each symbol inserted in order once (the sizes of a kernel of many views name the
        // same few symbols many times).
        let mut out: Vec<String> = vec![];
        for name in sizes.into_iter().flat_map(SymExpr::symbols) {
            if let Err(at) = out.binary_search(&name) {
                out.insert(at, name);
            }
        }
        out
    }

    /// The static kernel for these symbol values (`values[i]` is symbol `names[i]`), its tiles
    /// chosen for them ([`Kernel::choose_tiles`]); the loader then checks it as it checks
    /// every kernel.
    ///
    /// ```
    /// use kiln_types::{sizes::Symbolic, sym::SymExpr, ElementType::F32};
    /// use kiln_vmvx::format::{Body, Inst, Kernel, KernelOp, ReduceFn, View};
    /// let n = SymExpr::symbol("n");
    /// let view = |binding| View::<Symbolic> { binding, offset: 0.into(), element_type: F32,
    ///                                         shape: vec![n.clone()], strides: vec![1.into()] };
    /// let copy = Kernel { name: "copy".into(), op: KernelOp::Generic {
    ///     shape: vec![n.clone()], tile: vec![0], reduction_dims: 0, reduce: ReduceFn::Sum,
    ///     inputs: vec![view(0)], outputs: vec![view(1)],
    ///     body: Body { insts: vec![Inst::Input(0)], results: vec![0] } } };
    /// let bound = copy.bind(&["n".to_string()], &[100_000]).unwrap();
    /// assert_eq!(bound.workgroup_count(), 4); // tiles of 32K elements
    /// ```
    pub fn bind(&self, names: &[String], values: &[i64]) -> Result<Kernel, String> {
        let lookup = |s: &str| {
            names
                .iter()
                .position(|n| n == s)
                .and_then(|i| values.get(i).copied())
        };
        let b = Binder { lookup: &lookup };
        let op = match &self.op {
            KernelOp::Generic {
                shape,
                tile,
                reduction_dims,
                reduce,
                inputs,
                outputs,
                body,
            } => KernelOp::Generic {
                shape: b.extents(shape)?,
                tile: tile.clone(),
                reduction_dims: *reduction_dims,
                reduce: *reduce,
                inputs: b.views(inputs)?,
                outputs: b.views(outputs)?,
                body: body.clone(),
            },
            KernelOp::MatMul {
                a,
                b: rhs,
                c,
                tile_m,
                tile_n,
                accumulate,
                epilogue,
            } => KernelOp::MatMul {
                a: b.view(a)?,
                b: b.view(rhs)?,
                c: b.view(c)?,
                tile_m: *tile_m,
                tile_n: *tile_n,
                accumulate: *accumulate,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::Conv2d {
                x,
                w,
                y,
                strides,
                pads,
                dilations,
                groups,
                gemm,
                tile_co,
                tile_oh,
                accumulate,
                epilogue,
            } => KernelOp::Conv2d {
                x: b.view(x)?,
                w: b.view(w)?,
                y: b.view(y)?,
                strides: *strides,
                pads: *pads,
                dilations: *dilations,
                groups: *groups,
                gemm: *gemm,
                tile_co: *tile_co,
                tile_oh: *tile_oh,
                accumulate: *accumulate,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::PointwiseDepthwise {
                x,
                expand,
                steps,
                w,
                y,
                strides,
                pads,
                dilations,
                tile_co,
                tile_oh,
                epilogue,
            } => KernelOp::PointwiseDepthwise {
                x: b.view(x)?,
                expand: b.view(expand)?,
                steps: b.epilogue(steps)?,
                w: b.view(w)?,
                y: b.view(y)?,
                strides: *strides,
                pads: *pads,
                dilations: *dilations,
                tile_co: *tile_co,
                tile_oh: *tile_oh,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::ConvBand {
                x,
                y,
                kernel,
                strides,
                pads,
                dilations,
                out,
            } => KernelOp::ConvBand {
                x: b.view(x)?,
                y: b.view(y)?,
                kernel: *kernel,
                strides: *strides,
                pads: *pads,
                dilations: *dilations,
                out: *out,
            },
            KernelOp::Pool2d {
                x,
                y,
                max,
                kernel,
                strides,
                pads,
                count_include_pad,
                epilogue,
            } => KernelOp::Pool2d {
                x: b.view(x)?,
                y: b.view(y)?,
                max: *max,
                kernel: *kernel,
                strides: *strides,
                pads: *pads,
                count_include_pad: *count_include_pad,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::Softmax { x, y, epilogue } => KernelOp::Softmax {
                x: b.view(x)?,
                y: b.view(y)?,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::LayerNorm {
                x,
                y,
                epsilon,
                epilogue,
            } => KernelOp::LayerNorm {
                x: b.view(x)?,
                y: b.view(y)?,
                epsilon: *epsilon,
                epilogue: b.epilogue(epilogue)?,
            },
            KernelOp::Gather { data, indices, out } => KernelOp::Gather {
                data: b.view(data)?,
                indices: b.view(indices)?,
                out: b.view(out)?,
            },
            KernelOp::Attention {
                q,
                k,
                v,
                out,
                scores,
                tile_m,
            } => KernelOp::Attention {
                q: b.view(q)?,
                k: b.view(k)?,
                v: b.view(v)?,
                out: b.view(out)?,
                scores: b.epilogue(scores)?,
                tile_m: *tile_m,
            },
            KernelOp::Recurrent {
                proj,
                weights,
                h0,
                c0,
                biases,
                y,
                cell,
            } => KernelOp::Recurrent {
                proj: b.view(proj)?,
                weights: b.view(weights)?,
                h0: b.view(h0)?,
                c0: b.view(c0)?,
                biases: b.view(biases)?,
                y: b.view(y)?,
                cell: cell.clone(),
            },
        };
        let mut kernel = Kernel {
            name: self.name.clone(),
            op,
        };
        kernel.choose_tiles();
        Ok(kernel)
    }
}
