//! Einsum as transposes, reductions and batched matmuls.
//!
//! The equation's operands are contracted left to right. Before each contraction, letters
//! that neither the other operand, the later operands nor the output use are summed away;
//! letters both operands share and something later needs are batch dims; shared letters
//! nothing later needs are contracted. Each operand is transposed to
//! `[batch…, own…, contracted…]` (the right one to `[batch…, contracted…, own…]`), reshaped to
//! three dims and multiplied; the result is transposed to the output's order at the end.
//! `...` stands for the same broadcast dims in every term. A letter repeated within one
//! term takes the diagonal first: the elements off it zeroed and that dim summed away.

use super::ops::{reshape_to, Outputs};
use super::{Importer, NodeCtx};
use crate::ImportError;
use kiln_ir::{OpKind, ReduceKind, ValueId};

/// A value with one letter per dim.
struct Term {
    value: ValueId,
    letters: Vec<char>,
}

/// Splits the equation into input terms and the output term (implicit: the letters used
/// once, in alphabetical order, after any `...`). `...` becomes the letters in `ellipsis`.
fn parse(
    ctx: &NodeCtx,
    equation: &str,
    ranks: &[usize],
) -> Result<(Vec<Vec<char>>, Vec<char>), ImportError> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return Err(ctx.err(format!(
            "equation '{equation}' has {} terms for {} inputs",
            terms.len(),
            ranks.len()
        )));
    }
    // Letters standing for `...`: the most broadcast dims any term has, as fresh letters.
    let explicit = |t: &str| t.replace("...", "").chars().count();
    let mut ellipsis_rank = 0;
    for (t, &r) in terms.iter().zip(ranks) {
        if t.contains("...") {
            ellipsis_rank = ellipsis_rank.max(r.saturating_sub(explicit(t)));
        }
    }
    let fresh: Vec<char> = ('\u{100}'..).take(ellipsis_rank).collect();
    let expand = |t: &str, rank: Option<usize>| -> Result<Vec<char>, ImportError> {
        let mut out = vec![];
        let mut rest = t;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("...") {
                let n = match rank {
                    Some(rank) => rank.checked_sub(explicit(t)).ok_or_else(|| {
                        ctx.err(format!(
                            "term '{t}' has more letters than its input has dims"
                        ))
                    })?,
                    None => ellipsis_rank,
                };
                out.extend(&fresh[ellipsis_rank - n..]);
                rest = r;
                continue;
            }
            let c = rest.chars().next().expect("not empty");
            if !c.is_ascii_alphabetic() {
                return Err(ctx.err(format!("'{c}' in equation '{equation}' is not a letter")));
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        Ok(out)
    };
    let inputs: Vec<Vec<char>> = terms
        .iter()
        .zip(ranks)
        .map(|(t, &r)| expand(t, Some(r)))
        .collect::<Result<_, _>>()?;
    let output = match rhs {
        Some(r) => expand(&r, None)?,
        None => {
            let mut once: Vec<char> = inputs
                .iter()
                .flatten()
                .filter(|c| {
                    inputs.iter().flatten().filter(|d| d == c).count() == 1
                        && c.is_ascii_alphabetic()
                })
                .copied()
                .collect();
            once.sort_unstable();
            [fresh.clone(), once].concat()
        }
    };
    Ok((inputs, output))
}

/// Takes the diagonal of every letter `t` repeats: where the two dims' positions differ the
/// value is zeroed (a select, so infinities off the diagonal do not leak), and the second dim
/// is summed away.
fn diagonals(im: &mut Importer, ctx: &NodeCtx, t: &mut Term) -> Result<(), ImportError> {
    while let Some((p, q)) = (0..t.letters.len()).find_map(|q| {
        let p = t.letters[..q].iter().position(|&c| c == t.letters[q])?;
        Some((p, q))
    }) {
        let dims = im.dims(t.value);
        if dims[p] != dims[q] {
            return Err(ctx.err(format!(
                "'{}' labels dims of sizes {} and {}",
                t.letters[p], dims[p], dims[q]
            )));
        }
        let at = |im: &mut Importer, axis: usize| {
            let mut shape = vec![kiln_ir::Dim::Static(1); dims.len()];
            shape[axis] = dims[axis].clone();
            im.emit(ctx, OpKind::Iota { shape, axis }, &[])
        };
        let (row, col) = (at(im, p)?, at(im, q)?);
        let on = im.emit(ctx, OpKind::Binary(kiln_ir::BinaryOp::Equal), &[row, col])?;
        let zero = super::ops::scalar_like(im, ctx, t.value, 0.0);
        let kept = im.emit(ctx, OpKind::Select, &[on, t.value, zero])?;
        let sum = OpKind::Reduce {
            kind: ReduceKind::Sum,
            axes: vec![q],
            keep_dims: false,
        };
        t.value = im.emit(ctx, sum, &[kept])?;
        t.letters.remove(q);
    }
    Ok(())
}

pub(super) fn einsum(im: &mut Importer, ctx: &NodeCtx, inputs: &[Option<ValueId>]) -> Outputs {
    let equation = ctx
        .string("equation")
        .ok_or_else(|| ctx.err("attribute 'equation' is required"))?;
    let values: Vec<ValueId> = inputs.iter().flatten().copied().collect();
    let ranks: Vec<usize> = values.iter().map(|&v| im.ty(v).rank()).collect();
    let (terms, output) = parse(ctx, &equation, &ranks)?;
    let mut operands: Vec<Term> = values
        .iter()
        .zip(terms)
        .map(|(&value, letters)| Term { value, letters })
        .collect();
    for t in &mut operands {
        if t.letters.len() != im.ty(t.value).rank() {
            return Err(ctx.err(format!(
                "equation '{equation}' does not fit input {}",
                im.ty(t.value)
            )));
        }
        diagonals(im, ctx, t)?;
    }
    if operands.is_empty() {
        return Err(ctx.err("Einsum needs at least one input"));
    }
    let first = operands.remove(0);
    let mut acc = first;
    let mut rest: Vec<Term> = operands;
    // Sum away what nothing else needs, then contract with each later operand in turn.
    loop {
        let later: Vec<char> = rest
            .iter()
            .flat_map(|t| t.letters.clone())
            .chain(output.iter().copied())
            .collect();
        acc = sum_unused(im, ctx, acc, &later)?;
        if rest.is_empty() {
            break;
        }
        let next = rest.remove(0);
        let after: Vec<char> = rest
            .iter()
            .flat_map(|t| t.letters.clone())
            .chain(output.iter().copied())
            .collect();
        let next_needs: Vec<char> = acc
            .letters
            .iter()
            .copied()
            .chain(after.iter().copied())
            .collect();
        let next = sum_unused(im, ctx, next, &next_needs)?;
        acc = contract(im, ctx, acc, next, &after)?;
    }
    let perm: Vec<usize> = output
        .iter()
        .map(|c| {
            acc.letters
                .iter()
                .position(|x| x == c)
                .ok_or_else(|| ctx.err(format!("output letter '{c}' is in no input")))
        })
        .collect::<Result<_, _>>()?;
    if perm.len() != acc.letters.len() {
        return Err(ctx.err(format!(
            "equation '{equation}' leaves letters out of the output"
        )));
    }
    let y = if perm.iter().enumerate().all(|(i, &p)| i == p) {
        acc.value
    } else {
        im.emit(ctx, OpKind::Transpose { perm }, &[acc.value])?
    };
    Ok(vec![Some(y)])
}

/// Sums `t` over the letters `needed` does not contain.
fn sum_unused(
    im: &mut Importer,
    ctx: &NodeCtx,
    t: Term,
    needed: &[char],
) -> Result<Term, ImportError> {
    let axes: Vec<usize> = (0..t.letters.len())
        .filter(|&i| !needed.contains(&t.letters[i]))
        .collect();
    if axes.is_empty() {
        return Ok(t);
    }
    let value = im.emit(
        ctx,
        OpKind::Reduce {
            kind: ReduceKind::Sum,
            axes: axes.clone(),
            keep_dims: false,
        },
        &[t.value],
    )?;
    let letters = (0..t.letters.len())
        .filter(|i| !axes.contains(i))
        .map(|i| t.letters[i])
        .collect();
    Ok(Term { value, letters })
}

/// Contracts `a` with `b`: letters in both that `after` needs are batch dims, the others in
/// both are summed by the matmul.
fn contract(
    im: &mut Importer,
    ctx: &NodeCtx,
    a: Term,
    b: Term,
    after: &[char],
) -> Result<Term, ImportError> {
    let in_b = |c: &char| b.letters.contains(c);
    let batch: Vec<char> = a
        .letters
        .iter()
        .filter(|c| in_b(c) && after.contains(c))
        .copied()
        .collect();
    let summed: Vec<char> = a
        .letters
        .iter()
        .filter(|c| in_b(c) && !after.contains(c))
        .copied()
        .collect();
    let a_own: Vec<char> = a.letters.iter().filter(|c| !in_b(c)).copied().collect();
    let b_own: Vec<char> = b
        .letters
        .iter()
        .filter(|c| !a.letters.contains(c))
        .copied()
        .collect();
    let dims = |im: &Importer, t: &Term| im.shape(ctx, t.value);
    let (ad, bd) = (dims(im, &a)?, dims(im, &b)?);
    let size = |t: &Term, d: &[usize], c: char| {
        d[t.letters.iter().position(|x| *x == c).expect("letter of t")]
    };
    // Batch letters broadcast (the matmul's batch dims do); contracted ones must agree.
    for &c in batch.iter().chain(&summed) {
        let (x, y) = (size(&a, &ad, c), size(&b, &bd, c));
        let broadcast = batch.contains(&c) && (x == 1 || y == 1);
        if x != y && !broadcast {
            return Err(ctx.err(format!("'{c}' is {x} in one input and {y} in another")));
        }
    }
    let arrange = |im: &mut Importer,
                   t: &Term,
                   d: &[usize],
                   groups: [&[char]; 3]|
     -> Result<ValueId, ImportError> {
        let order: Vec<char> = groups.concat();
        let perm: Vec<usize> = order
            .iter()
            .map(|c| t.letters.iter().position(|x| x == c).expect("letter of t"))
            .collect();
        let v = if perm.iter().enumerate().all(|(i, &p)| i == p) {
            t.value
        } else {
            im.emit(ctx, OpKind::Transpose { perm: perm.clone() }, &[t.value])?
        };
        let mut shape: Vec<usize> = groups[0].iter().map(|&c| size(t, d, c)).collect();
        shape.push(groups[1].iter().map(|&c| size(t, d, c)).product());
        shape.push(groups[2].iter().map(|&c| size(t, d, c)).product());
        reshape_to(im, ctx, v, shape)
    };
    let a3 = arrange(im, &a, &ad, [&batch, &a_own, &summed])?;
    let b3 = arrange(im, &b, &bd, [&batch, &summed, &b_own])?;
    let y = im.emit(ctx, OpKind::MatMul, &[a3, b3])?;
    let ys = im.shape(ctx, y)?;
    let mut shape: Vec<usize> = ys[..batch.len()].to_vec();
    shape.extend(a_own.iter().map(|&c| size(&a, &ad, c)));
    shape.extend(b_own.iter().map(|&c| size(&b, &bd, c)));
    let value = reshape_to(im, ctx, y, shape)?;
    Ok(Term {
        value,
        letters: [batch, a_own, b_own].concat(),
    })
}
