//! Run-time control flow: cutting the imported graph into straight-line segments sequenced by
//! a control program ([`kiln_types::control`]).
//!
//! Until a node needs a run-time branch or loop, the importer builds one function. At such a
//! node it *cuts*: the function built so far becomes an internal segment (`main.s0`, …) whose
//! results are the values later nodes still read (counted per graph, see [`super::uses`]), each held
//! in a tensor register of the control program; a `call` of the segment is appended to the
//! current block. The next segment takes those registers as parameters again. Branches and
//! loop bodies are imported as segments of their own inside nested blocks, so control flow
//! nests to any depth, and a subgraph reads outer values through their registers.
//!
//! A parameter's type keeps static dims and plain symbols; a dim that is an expression
//! (`(h+1)/2`) becomes a symbol of its own, since a segment binds its symbols from its
//! inputs' shapes. At the end of the graph, the last segment's results and the registers the
//! graph's outputs live in make `main` a function with a control program. Loop bodies get
//! their outer values and step scalars from [`super::loop_values`]; sizes read as data are
//! computed by [`super::host_sizes`].

use super::shape_values::ShapeValue;
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{ConstId, Control, Dim, Function, Port, SymExpr, TensorType, ValueId};
use kiln_types::control::{ControlProgram, Stmt};
use kiln_types::HostTensor;
use std::collections::{HashMap, HashSet};

/// The control program being built and the current segment's link to its registers.
pub(crate) struct Staging {
    /// Statements of the blocks being built, innermost last.
    blocks: Vec<Vec<Stmt>>,
    /// Each tensor register's type; `None` for a rank known only per call.
    pub(crate) tensors: Vec<Option<TensorType>>,
    /// The element type of each register whose rank is known only per call.
    any_rank_types: HashMap<u32, kiln_types::ElementType>,
    scalars: u32,
    /// The current segment's parameters and the registers they read.
    pub(crate) params: Vec<(ValueId, u32)>,
    /// Values standing for registers whose rank is known only per call (usable only as graph
    /// outputs), with the node that made them.
    any_rank: HashMap<ValueId, (u32, String)>,
    segments: usize,
    /// Symbols given to size expressions and to sizes loops change.
    fresh: usize,
    expr_symbols: HashMap<SymExpr, String>,
    /// The function's inputs (registers 0..n).
    inputs: Vec<Port>,
    pub(crate) input_types: Vec<TensorType>,
    /// Bumped at every new segment: value ids from before are stale.
    pub epoch: usize,
}

/// What a new segment starts from: the live names and where their values are.
#[derive(Clone, Default)]
pub(crate) struct Carry {
    pub(crate) regs: Vec<(String, u32)>,
    consts: Vec<(String, ConstId, TensorType)>,
    pub(crate) shapes: Vec<(String, ShapeValue)>,
    /// Carriers of sizes the ended segment's shape values held (see `rebase_shapes`).
    pub(crate) size_carriers: Vec<u32>,
    any_rank: Vec<(String, u32, String)>,
    /// Registers of values by their id in the segment that ended.
    pub by_value: HashMap<ValueId, u32>,
    /// Constant values of the segment that ended.
    pub consts_by_value: HashMap<ValueId, (ConstId, TensorType)>,
}

impl Importer {
    /// The staging state, started on first use with the function's parameters so far as its
    /// input registers.
    pub(crate) fn staging(&mut self) -> &mut Staging {
        if self.staging.is_none() {
            let params: Vec<(ValueId, u32)> = self
                .func
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| (p.value, i as u32))
                .collect();
            let input_types: Vec<TensorType> = self
                .func
                .params
                .iter()
                .map(|p| self.func.ty(p.value).clone())
                .collect();
            self.staging = Some(Staging {
                blocks: vec![vec![]],
                tensors: input_types.iter().cloned().map(Some).collect(),
                scalars: 0,
                params,
                any_rank: HashMap::new(),
                any_rank_types: HashMap::new(),
                segments: 0,
                fresh: 0,
                expr_symbols: HashMap::new(),
                inputs: self.func.params.clone(),
                input_types,
                epoch: 0,
            });
        }
        self.staging.as_mut().expect("just set")
    }

    /// Whether the graph has been cut into segments.
    pub(crate) fn is_staged(&self) -> bool {
        self.staging.is_some()
    }

    pub(crate) fn new_register(&mut self, ty: Option<TensorType>) -> u32 {
        let s = self.staging();
        s.tensors.push(ty);
        s.tensors.len() as u32 - 1
    }

    pub(crate) fn new_scalar(&mut self) -> u32 {
        let s = self.staging();
        s.scalars += 1;
        s.scalars - 1
    }

    /// A new scalar register set to `value`.
    pub(crate) fn scalar_constant(&mut self, value: i64) -> u32 {
        let scalar = self.new_scalar();
        self.push_stmt(Stmt::SetScalar { scalar, value });
        scalar
    }

    /// A new scalar register set to `lhs op rhs`.
    pub(crate) fn arith(&mut self, op: kiln_types::control::ArithOp, lhs: u32, rhs: u32) -> u32 {
        let dst = self.new_scalar();
        self.push_stmt(Stmt::Arith { op, lhs, rhs, dst });
        dst
    }

    pub(crate) fn register_type(&mut self, reg: u32) -> Option<TensorType> {
        self.staging().tensors[reg as usize].clone()
    }

    /// Gives register `reg` the type `ty`, or (`None`) a rank known only per call with
    /// element type `et`.
    pub(crate) fn set_register_type(
        &mut self,
        reg: u32,
        ty: Option<TensorType>,
        et: kiln_types::ElementType,
    ) {
        let s = self.staging();
        if ty.is_none() {
            s.any_rank_types.insert(reg, et);
        }
        s.tensors[reg as usize] = ty;
    }

    /// Appends a statement to the innermost block.
    pub(crate) fn push_stmt(&mut self, stmt: Stmt) {
        self.staging()
            .blocks
            .last_mut()
            .expect("a block")
            .push(stmt);
    }

    pub(crate) fn open_block(&mut self) {
        self.staging().blocks.push(vec![]);
    }

    /// How many blocks are open (see [`Importer::truncate_blocks`]).
    pub(crate) fn block_depth(&mut self) -> usize {
        self.staging().blocks.len()
    }

    /// Drops blocks opened past `depth` (by a subgraph whose import failed).
    pub(crate) fn truncate_blocks(&mut self, depth: usize) {
        self.staging().blocks.truncate(depth);
    }

    pub(crate) fn close_block(&mut self) -> Vec<Stmt> {
        self.staging().blocks.pop().unwrap_or_default()
    }

    /// A fresh symbol, for a size known only per call.
    pub(crate) fn fresh_symbol(&mut self) -> Dim {
        let s = self.staging();
        s.fresh += 1;
        Dim::symbol(format!("_cf{}", s.fresh))
    }

    /// `ty` with every non-static dim a fresh symbol (a size a loop may change, or one with no
    /// relation to the sizes around it).
    pub(crate) fn open_type(&mut self, ty: &TensorType) -> TensorType {
        let mut out = ty.clone();
        for d in &mut out.dims {
            if !matches!(d, Dim::Static(_)) {
                *d = self.fresh_symbol();
            }
        }
        out
    }

    /// `ty` as a segment parameter's type: size expressions become symbols (one per
    /// expression), so the segment can bind them from its inputs.
    pub(crate) fn parameter_type(&mut self, ty: &TensorType) -> TensorType {
        let mut out = ty.clone();
        for d in &mut out.dims {
            let e = d.expr();
            if e.as_const().is_some() || e.as_symbol().is_some() {
                continue;
            }
            let s = self.staging();
            let next = s.fresh + 1;
            let name = s
                .expr_symbols
                .entry(e)
                .or_insert_with(|| format!("_cf{next}"))
                .clone();
            if name == format!("_cf{next}") {
                s.fresh = next;
            }
            *d = Dim::symbol(name);
        }
        out
    }

    /// Ends the current segment. Its results are the non-constant values later nodes read
    /// (each in a new register, unless it is a parameter and so already in one) and the
    /// values `exits` places in given registers (a parameter or a value of any rank by a
    /// move after the call); a call of it joins the current block when it returns anything.
    /// Returns what the next segment starts from.
    pub(crate) fn end_segment(&mut self, exits: &[(ValueId, u32)]) -> Result<Carry, ImportError> {
        self.staging();
        let mut carry = Carry::default();
        let mut results: Vec<(ValueId, u32)> = vec![];
        let mut moves = vec![];
        let params: HashMap<ValueId, u32> = self.staging().params.iter().copied().collect();
        for &(v, r) in exits {
            let any = self.staging().any_rank.get(&v).map(|(reg, _)| *reg);
            match any.or_else(|| params.get(&v).copied()) {
                Some(src) => moves.push(Stmt::Move { src, dst: r }),
                None => {
                    results.push((v, r));
                    carry.by_value.insert(v, r);
                }
            }
        }
        let mut names: Vec<(String, ValueId)> = self
            .names
            .iter()
            .filter(|(n, _)| self.uses.live(n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        names.sort();
        for (name, v) in names {
            if let Some(&id) = self.consts.get(&v) {
                let ty = self.func.ty(v).clone();
                carry.consts.push((name, id, ty));
            } else if let Some(s) = self.sym_values.get(&v) {
                carry.shapes.push((name, s.clone()));
            } else if let Some((r, node)) = self.staging().any_rank.get(&v).cloned() {
                carry.any_rank.push((name, r, node));
            } else if let Some(&r) = params.get(&v) {
                carry.regs.push((name, r));
                carry.by_value.insert(v, r);
            } else {
                let r = match carry.by_value.get(&v) {
                    Some(&r) => r,
                    None => {
                        let ty = self.func.ty(v).clone();
                        let r = self.new_register(Some(ty));
                        results.push((v, r));
                        carry.by_value.insert(v, r);
                        r
                    }
                };
                carry.regs.push((name, r));
            }
        }
        for (&v, &id) in &self.consts {
            carry
                .consts_by_value
                .insert(v, (id, self.func.ty(v).clone()));
        }
        for (&v, &r) in &params {
            carry.by_value.entry(v).or_insert(r);
        }
        self.rebase_shapes(&mut carry)?;
        self.compute_sizes(&results.iter().map(|&(v, _)| v).collect::<Vec<_>>())?;
        // A size the control program computed is already in a register.
        let computed: HashMap<ValueId, u32> = self.staging().params.iter().copied().collect();
        results.retain(|&(v, dst)| match computed.get(&v) {
            Some(&src) => {
                moves.push(Stmt::Move { src, dst });
                false
            }
            None => true,
        });
        // A value two registers take is returned once (registers share immutable tensors),
        // and copied from the first after the call.
        let mut first: HashMap<ValueId, u32> = HashMap::new();
        let mut copies = vec![];
        results.retain(|&(v, dst)| match first.get(&v) {
            Some(&src) => {
                copies.push(Stmt::Move { src, dst });
                false
            }
            None => {
                first.insert(v, dst);
                true
            }
        });
        let mut func = std::mem::replace(&mut self.func, Function::new("main"));
        func.results = results
            .iter()
            .map(|&(value, r)| Port {
                value,
                name: format!("r{r}"),
            })
            .collect();
        std::mem::swap(&mut self.func, &mut func);
        self.check_placeholders()?;
        std::mem::swap(&mut self.func, &mut func);
        // The other moves place values the segment started from: a source the call or
        // another move writes (a loop body returning a carried value's previous value as a
        // scan output, or swapping two carried values) is first copied aside.
        let written: HashSet<u32> = results
            .iter()
            .map(|&(_, r)| r)
            .chain(moves.iter().chain(&copies).filter_map(|m| match m {
                Stmt::Move { dst, .. } => Some(*dst),
                _ => None,
            }))
            .collect();
        let mut aside = vec![];
        for m in &mut moves {
            if let Stmt::Move { src, dst } = m {
                if *src != *dst && written.contains(src) {
                    let ty = self.staging().tensors[*src as usize].clone();
                    let tmp = self.new_register(ty);
                    aside.push(Stmt::Move {
                        src: *src,
                        dst: tmp,
                    });
                    *src = tmp;
                }
            }
        }
        let s = self.staging();
        let args: Vec<u32> = s.params.iter().map(|&(_, r)| r).collect();
        let mut call = None;
        if !results.is_empty() {
            func.name = format!("main.s{}", s.segments);
            func.internal = true;
            s.segments += 1;
            call = Some(Stmt::Call {
                function: func.name.clone(),
                args,
                results: results.iter().map(|&(_, r)| r).collect(),
            });
        }
        let block = s.blocks.last_mut().expect("a block");
        block.extend(aside);
        block.extend(call);
        block.extend(copies);
        block.extend(moves);
        if !results.is_empty() {
            self.program.functions.push(func);
        }
        Ok(carry)
    }

    /// The current segment's generation: value ids from an earlier one are stale.
    pub(crate) fn epoch(&self) -> usize {
        self.staging.as_ref().map_or(0, |s| s.epoch)
    }

    /// Starts a new segment from `carry`: each carried register a parameter, constants and
    /// symbolic shape values as they were. `extra` registers (no name yet) become parameters
    /// too, or values of any rank; their values are returned in order.
    pub(crate) fn start_segment(
        &mut self,
        carry: &Carry,
        extra: &[u32],
        node: &str,
    ) -> Vec<ValueId> {
        self.func = Function::new("main");
        self.names.clear();
        self.consts.clear();
        self.dequantized.clear();
        self.shifted_pixels.clear();
        self.sym_values.clear();
        let s = self.staging();
        s.params.clear();
        s.any_rank.clear();
        s.epoch += 1;
        for (name, reg) in &carry.regs {
            let ty = self.staging().tensors[*reg as usize]
                .clone()
                .expect("carried registers are ranked");
            let ty = self.parameter_type(&ty);
            let v = self.func.add_param(format!("r{reg}"), ty);
            self.staging().params.push((v, *reg));
            self.names.insert(name.clone(), v);
        }
        for (name, id, ty) in &carry.consts {
            let v = self.func.push_constant(*id, ty.clone(), name);
            self.consts.insert(v, *id);
            self.names.insert(name.clone(), v);
        }
        for (name, s) in &carry.shapes {
            // Sizes a carried parameter has are the symbols its type got here.
            let mut s = s.clone();
            for e in &mut s.values {
                if let Some(name) = self.staging().expr_symbols.get(e) {
                    *e = SymExpr::symbol(name.clone());
                }
            }
            let s = &s;
            let shape: Vec<usize> = if s.scalar {
                vec![]
            } else {
                vec![s.values.len()]
            };
            let zeros = vec![0; s.values.len()];
            let (v, _) = self.placeholder(HostTensor::from_i64(&shape, &zeros), name);
            self.sym_values.insert(v, s.clone());
            self.names.insert(name.clone(), v);
        }
        for &reg in &carry.size_carriers {
            let ty = self.staging().tensors[reg as usize]
                .clone()
                .expect("carriers are ranked");
            let v = self.func.add_param(format!("r{reg}"), ty);
            self.staging().params.push((v, reg));
        }
        self.bind_shape_symbols(carry);
        for (name, reg, node) in &carry.any_rank {
            let v = self.any_rank_value(*reg, node);
            self.names.insert(name.clone(), v);
        }
        let mut out = vec![];
        for &reg in extra {
            out.push(match self.staging().tensors[reg as usize].clone() {
                Some(ty) => {
                    let ty = self.parameter_type(&ty);
                    let v = self.func.add_param(format!("r{reg}"), ty);
                    self.staging().params.push((v, reg));
                    v
                }
                None => self.any_rank_value(reg, node),
            });
        }
        out
    }

    /// Makes the new segment bind the input symbols its carried shape values are written in
    /// (the others were rebased, see `rebase_shapes`): a function input with such a dim
    /// becomes a parameter too (registers share tensors, so passing it costs nothing), unless
    /// a parameter binds the symbol already.
    fn bind_shape_symbols(&mut self, carry: &Carry) {
        let mut needed: Vec<String> = carry
            .shapes
            .iter()
            .flat_map(|(_, s)| s.values.iter().flat_map(SymExpr::symbols))
            .collect();
        needed.sort();
        needed.dedup();
        let bound = |im: &Importer, name: &str| {
            im.func.params.iter().any(|p| {
                let dims = &im.func.ty(p.value).dims;
                dims.iter().any(|d| d.expr().as_symbol() == Some(name))
            })
        };
        for name in needed {
            if bound(self, &name) {
                continue;
            }
            let s = self.staging();
            let input = s.input_types.iter().position(|t| {
                t.dims
                    .iter()
                    .any(|d| d.expr().as_symbol() == Some(name.as_str()))
            });
            if let Some(i) = input {
                let ty = s.input_types[i].clone();
                let v = self.func.add_param(format!("r{i}"), ty);
                self.staging().params.push((v, i as u32));
            }
        }
    }

    /// The type of `v`, `None` when its rank is known only per call.
    pub(crate) fn ranked_type(&self, v: ValueId) -> Option<TensorType> {
        let any = self
            .staging
            .as_ref()
            .is_some_and(|s| s.any_rank.contains_key(&v));
        (!any).then(|| self.func.ty(v).clone())
    }

    /// A value standing for register `reg`, whose rank is known only per call; `node` made it.
    pub(crate) fn any_rank_value(&mut self, reg: u32, node: &str) -> ValueId {
        let et = self.staging().any_rank_types.get(&reg).copied();
        let et = et.unwrap_or(kiln_types::ElementType::F32);
        let (v, _) = self.placeholder(HostTensor::from_f64(et, &[], &[0.0]), node);
        self.staging().any_rank.insert(v, (reg, node.to_string()));
        v
    }

    /// An error when a node reads `v`, a value whose rank is known only per call.
    pub(crate) fn check_ranked(
        &self,
        ctx: &NodeCtx,
        name: &str,
        v: ValueId,
    ) -> Result<(), ImportError> {
        match self.staging.as_ref().and_then(|s| s.any_rank.get(&v)) {
            Some((_, node)) => Err(ctx.err(format!(
                "input '{name}' comes from If node '{node}', whose branches return different ranks; kiln takes such values only as graph outputs"
            ))),
            None => Ok(()),
        }
    }

    /// Finishes a staged graph: the last segment returns the outputs it computes, and `main`
    /// becomes a function with a control program returning the registers of `outputs`.
    pub(crate) fn finish_staged(
        &mut self,
        outputs: &[(String, ValueId)],
    ) -> Result<(), ImportError> {
        let params: HashMap<ValueId, u32> = self.staging().params.iter().copied().collect();
        let mut exits = vec![];
        let mut regs = vec![];
        let mut any_rank = vec![];
        for (_, v) in outputs {
            let known = self.staging().any_rank.get(v).map(|(r, _)| *r);
            let r = match (known, params.get(v)) {
                (Some(r), _) => r,
                (None, Some(&r)) => r,
                (None, None) => {
                    let ty = self.func.ty(*v).clone();
                    let r = self.new_register(Some(ty));
                    exits.push((*v, r));
                    r
                }
            };
            any_rank.push(self.register_type(r).is_none());
            regs.push(r);
        }
        self.uses.clear();
        self.end_segment(&exits)?;
        let s = self.staging.take().expect("staged");
        let mut main = Function::new("main");
        for (p, ty) in s.inputs.iter().zip(&s.input_types) {
            main.add_param(p.name.clone(), ty.clone());
        }
        for ((name, _), &r) in outputs.iter().zip(&regs) {
            let ty = s.tensors[r as usize].clone().unwrap_or_else(|| {
                let et = s.any_rank_types.get(&r).copied();
                TensorType::new(et.unwrap_or(kiln_types::ElementType::F32), &[])
            });
            let value = main.new_value(ty);
            main.results.push(Port {
                value,
                name: name.clone(),
            });
        }
        let mut blocks = s.blocks;
        main.control = Some(Control {
            program: ControlProgram {
                tensors: s.tensors.len() as u32,
                scalars: s.scalars,
                body: blocks.swap_remove(0),
                results: regs,
            },
            any_rank,
        });
        self.program.functions.push(main);
        Ok(())
    }
}

/// A branch's output type: ranked, or (`None`) a rank known only per call, and its element type.
pub(crate) type BranchType = (Option<TensorType>, kiln_types::ElementType);

impl Importer {
    /// The type of `v` as a branch output.
    pub(crate) fn branch_type(&self, v: ValueId) -> BranchType {
        (self.ranked_type(v), self.func.ty(v).element_type)
    }

    /// Gives each of `regs` the type the branches agree on (`types[b][i]`: branch `b`'s
    /// output `i`): sizes that differ become fresh symbols, ranks that differ a rank known only
    /// per call. Element types must agree.
    pub(crate) fn merge_types(
        &mut self,
        ctx: &NodeCtx,
        regs: &[u32],
        types: &[Vec<BranchType>],
    ) -> Result<(), ImportError> {
        for (i, &r) in regs.iter().enumerate() {
            let outs: Vec<&BranchType> = types.iter().map(|t| &t[i]).collect();
            let Some(&&(_, et)) = outs.first() else {
                continue;
            };
            if let Some((_, other)) = outs.iter().find(|(_, e)| *e != et) {
                return Err(ctx.err(format!(
                    "output {i} is {et} in one branch and {other} in another"
                )));
            }
            let mut merged: Option<TensorType> = None;
            let mut any_rank = false;
            for (t, _) in outs {
                match (t, &mut merged) {
                    (None, _) => any_rank = true,
                    (Some(t), None) => merged = Some(t.clone()),
                    (Some(t), Some(m)) if m.rank() == t.rank() => {
                        for k in 0..t.rank() {
                            if m.dims[k] != t.dims[k] {
                                m.dims[k] = self.fresh_symbol();
                            }
                        }
                    }
                    (Some(_), Some(_)) => any_rank = true,
                }
            }
            self.set_register_type(r, merged.filter(|_| !any_rank), et);
        }
        Ok(())
    }
}
