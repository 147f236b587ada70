//! Nodes whose structure depends on a small run-time integer input: one branch per value.
//!
//! Some inputs decide a node's shape rather than its data: the axes of a reduction, Squeeze
//! or Unsqueeze, CumSum's and DFT's axis, TopK's K. Models usually give them as constants (folded while
//! importing); given as run-time data, each has only a few meaningful values (an axis of a
//! rank-4 tensor is one of four). The node is then imported once per value, each a segment of
//! a run-time branch, and the control program reads the input's elements back, normalises
//! negative axes, and takes the branch that matches — or fails the call naming the value when
//! none does. Outputs take the types the branches agree on ([`Importer::merge_types`]).

use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{OpKind, ValueId};
use kiln_types::control::{ArithOp, Stmt};
use kiln_types::HostTensor;

/// Most branches a node is imported into; inputs with more possible values are refused.
const MAX_CASES: usize = 64;

/// The values a run-time input may take: each a list of elements, compared after normalising
/// negative elements by `modulus` (an axis against a rank), when it is not zero; with `sets`,
/// as sets (distinct elements in any order: a list of axes).
pub(crate) struct Domain {
    input: usize,
    modulus: i64,
    sets: bool,
    cases: Vec<Vec<i64>>,
}

/// The `k`-element subsets of the values below `n`, each sorted (axes lists), or `None` past
/// [`MAX_CASES`].
fn subsets(n: usize, k: usize) -> Option<Vec<Vec<i64>>> {
    let mut out: Vec<Vec<i64>> = vec![vec![]];
    for _ in 0..k {
        let mut next = vec![];
        for t in &out {
            for v in t.last().map_or(0, |&l| l + 1)..n as i64 {
                let mut u = t.clone();
                u.push(v);
                next.push(u);
            }
        }
        out = next;
    }
    (out.len() <= MAX_CASES).then_some(out)
}

impl Importer {
    /// The run-time input of the node whose values it is imported for, if it has one: an
    /// input that must be known when compiling, is not, and has few possible values.
    pub(crate) fn value_domain(&self, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Option<Domain> {
        let given = |i: usize| inputs.get(i).copied().flatten();
        let runtime = |i: usize| given(i).filter(|&v| self.const_of(v).is_none());
        let rank = |v: ValueId| self.ty(v).rank();
        let count = |v: ValueId| {
            self.ty(v)
                .static_shape()
                .map(|s| s.iter().product::<usize>())
        };
        let axes_input = match ctx.op_type {
            "ReduceSum" => ctx.opset >= 13,
            op if op.starts_with("Reduce") => ctx.opset >= 18,
            "Squeeze" | "Unsqueeze" => ctx.opset >= 13,
            _ => false,
        };
        let x = given(0)?;
        if axes_input {
            let axes = runtime(1)?;
            let k = count(axes)?;
            let n = match ctx.op_type {
                "Unsqueeze" => rank(x) + k,
                _ => rank(x),
            };
            return Some(Domain {
                input: 1,
                modulus: n as i64,
                sets: true,
                cases: subsets(n, k)?,
            });
        }
        match ctx.op_type {
            // DFT 20's axis: any dim but the last (the real and imaginary parts).
            "DFT" if ctx.opset >= 20 => {
                let axis = runtime(2)?;
                (count(axis)? == 1).then(|| Domain {
                    input: 2,
                    modulus: rank(x) as i64,
                    sets: false,
                    cases: (0..rank(x) as i64 - 1).map(|a| vec![a]).collect(),
                })
            }
            "CumSum" | "CumProd" => {
                let axis = runtime(1)?;
                (count(axis)? == 1).then(|| Domain {
                    input: 1,
                    modulus: rank(x) as i64,
                    sets: false,
                    cases: (0..rank(x) as i64).map(|a| vec![a]).collect(),
                })
            }
            "TopK" if ctx.opset >= 10 => {
                let k = runtime(1)?;
                let dims = self.ty(x).dims.clone();
                let a = super::ops::axis(ctx, ctx.int("axis", -1), dims.len()).ok()?;
                let n = dims[a].as_static()?;
                (count(k)? == 1 && n < MAX_CASES).then(|| Domain {
                    input: 1,
                    modulus: 0,
                    sets: false,
                    cases: (0..=n as i64).map(|v| vec![v]).collect(),
                })
            }
            _ => None,
        }
    }

    /// Imports the node once per value of its input `domain.input` (a run-time branch each,
    /// see the module docs); returns its outputs.
    pub(crate) fn import_per_value(
        &mut self,
        ctx: &NodeCtx,
        inputs: &[Option<ValueId>],
        domain: Domain,
        build: super::ops::Builder,
    ) -> Result<Vec<Option<ValueId>>, ImportError> {
        let v = inputs[domain.input].expect("a run-time input");
        let ty = self.ty(v).clone();
        let k = ty.static_shape().map_or(0, |s| s.iter().product::<usize>());
        // Each element as a rank-0 value, read back by the control program.
        let flat = self.emit(
            ctx,
            OpKind::Reshape {
                shape: vec![kiln_ir::Dim::Static(k)],
            },
            &[v],
        )?;
        let mut exits = vec![];
        for e in 0..k {
            let at = self.constant(HostTensor::from_i64(&[], &[e as i64]), &ctx.name);
            let element = self.emit(ctx, OpKind::Gather { axis: 0 }, &[flat, at])?;
            let r = self.new_register(Some(self.ty(element).clone()));
            exits.push((element, r));
        }
        let names: Vec<Option<String>> = ctx
            .node
            .input
            .iter()
            .map(|n| (!n.is_empty()).then(|| n.clone()))
            .collect();
        let carry = self.end_segment(&exits)?;
        let (zero, one) = (self.scalar_constant(0), self.scalar_constant(1));
        let modulus = self.scalar_constant(domain.modulus);
        let mut elements = vec![];
        for &(_, r) in &exits {
            let s = self.new_scalar();
            self.push_stmt(Stmt::Read {
                tensor: r,
                scalar: s,
            });
            // A negative element counts from the end when it is an axis.
            let negative = self.arith(ArithOp::Less, s, zero);
            let shift = self.arith(ArithOp::Mul, negative, modulus);
            elements.push(self.arith(ArithOp::Add, s, shift));
        }
        // Sets match when their elements are distinct and each is in the case.
        let mut distinct = one;
        if domain.sets {
            for (i, &a) in elements.iter().enumerate() {
                for &b in &elements[i + 1..] {
                    let same = self.arith(ArithOp::Eq, a, b);
                    let differ = self.arith(ArithOp::Sub, one, same);
                    distinct = self.arith(ArithOp::Mul, distinct, differ);
                }
            }
        }
        let mut matches = vec![];
        for case in &domain.cases {
            let mut all = distinct;
            for (k, &e) in elements.iter().enumerate() {
                let wanted: &[i64] = if domain.sets { case } else { &case[k..=k] };
                let mut member = zero;
                for &c in wanted {
                    let c = self.scalar_constant(c);
                    let eq = self.arith(ArithOp::Eq, e, c);
                    member = self.arith(ArithOp::Max, member, eq);
                }
                all = self.arith(ArithOp::Mul, all, member);
            }
            matches.push(all);
        }
        let n_out = ctx.node.output.len();
        let regs: Vec<u32> = (0..n_out).map(|_| self.new_register(None)).collect();
        let mut branches = vec![];
        let mut types = vec![];
        let mut refusal = None;
        for case in &domain.cases {
            self.open_block();
            self.start_segment(&carry, &[], &ctx.name);
            let mut args = vec![];
            for (i, name) in names.iter().enumerate() {
                args.push(match (i == domain.input, name) {
                    (true, _) => {
                        let t = HostTensor::from_i64(&ty.static_shape().unwrap_or_default(), case);
                        let t = HostTensor::from_f64(ty.element_type, &t.shape, &t.to_f64());
                        Some(self.constant(t, &ctx.name))
                    }
                    (false, Some(n)) => Some(*self.names.get(n).ok_or_else(|| {
                        ctx.err(format!("input '{n}' is not defined before this node"))
                    })?),
                    (false, None) => None,
                });
            }
            let built = build(self, ctx, &args).and_then(|outs| {
                outs.into_iter()
                    .map(|o| o.ok_or_else(|| ctx.err("an output is not supported")))
                    .collect::<Result<Vec<ValueId>, _>>()
            });
            match built {
                Ok(outs) => {
                    types.push(
                        outs.iter()
                            .map(|&o| self.branch_type(o))
                            .collect::<Vec<_>>(),
                    );
                    let exits: Vec<(ValueId, u32)> = outs.into_iter().zip(regs.clone()).collect();
                    self.end_segment(&exits)?;
                }
                // A value the node refuses fails the call that gives it.
                Err(e) => {
                    self.push_stmt(Stmt::Fail {
                        message: e.to_string(),
                    });
                    refusal.get_or_insert(e);
                }
            }
            branches.push(self.close_block());
        }
        let values: Vec<String> = domain.cases.iter().map(|c| format!("{c:?}")).collect();
        let mut chain = vec![Stmt::Fail {
            message: format!(
                "node '{}' ({}): input {} must be one of {} at run time",
                ctx.name,
                ctx.op_type,
                domain.input,
                values.join(", ")
            ),
        }];
        for (body, &flag) in branches.into_iter().zip(&matches).rev() {
            chain = vec![Stmt::If {
                cond: flag,
                then_body: body,
                else_body: chain,
            }];
        }
        for stmt in chain {
            self.push_stmt(stmt);
        }
        if types.is_empty() {
            return Err(refusal.unwrap_or_else(|| ctx.err("no value of the input works")));
        }
        self.merge_types(ctx, &regs, &types)?;
        let outs = self.start_segment(&carry, &regs, &ctx.name);
        Ok(outs.into_iter().map(Some).collect())
    }
}
