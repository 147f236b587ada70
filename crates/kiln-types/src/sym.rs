//! Symbolic sizes: integer expressions over named dims, kept in a normal form.
//!
//! A [`SymExpr`] is a polynomial with integer coefficients whose atoms are symbols (`batch`,
//! `h`) or floor divisions of an expression by a positive constant (`(h+1)/2`). Every
//! constructor simplifies, so two expressions that are equal as polynomials compare equal:
//! `2*h + h` is `3*h`, `(2*h+2)/2` is `h+1`, `((h+1)/2)/2` is `(h+1)/4`. This is what shape
//! inference needs: output sizes of strided windows (`(h-1)/2+1`), reshapes that keep an
//! element count (`b*s*64 / (b*s)` is `64`), concatenations (`s+1`).
//!
//! Sizes are evaluated once the symbols are bound ([`SymExpr::eval`]); division is floor
//! division, which matches integer sizes because kiln's sizes are never negative.
//!
//! ```
//! use kiln_types::sym::SymExpr;
//! let h = SymExpr::symbol("h");
//! let out = (h.clone() + SymExpr::from(2) - SymExpr::from(3)).floor_div(2) + SymExpr::from(1);
//! // floor((h-1)/2) + 1 is floor((h+1)/2): the normal form keeps one division.
//! assert_eq!(out.to_string(), "(h+1)/2");
//! assert_eq!(out.eval(&|_| Some(224)), Some(112));
//! assert_eq!(SymExpr::parse("(h-1)/2+1"), Ok(out));
//! ```

use alloc::boxed::Box;
#[cfg(feature = "symbolic")]
use alloc::collections::BTreeMap;
#[cfg(feature = "symbolic")]
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Add, Mul, Sub};

/// Integer arithmetic a [`SymExpr`] can be computed in ([`SymExpr::eval_in`]): instructions
/// of a code generator, for kernels that compute their sizes from symbol values at run time.
pub trait SymArith {
    type Value;
    type Error;
    fn constant(&mut self, c: i64) -> Result<Self::Value, Self::Error>;
    /// The value of symbol `name`.
    fn symbol(&mut self, name: &str) -> Result<Self::Value, Self::Error>;
    fn add(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    fn mul(&mut self, a: Self::Value, b: Self::Value) -> Result<Self::Value, Self::Error>;
    /// `floor(a / d)` for a constant `d > 1` (`a` may be negative).
    fn floor_div(&mut self, a: Self::Value, d: i64) -> Result<Self::Value, Self::Error>;
}

/// A factor of a monomial.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    /// A named dim.
    Symbol(String),
    /// `floor(expr / divisor)` with `divisor > 1`, kept only when it does not simplify.
    FloorDiv(Box<SymExpr>, i64),
}

/// A symbolic integer: a sum of coefficient × monomial terms (a monomial is a sorted list of
/// atoms; the empty monomial is the constant term). No coefficient is zero. Constants, the
/// sizes of every fixed-shape model, are kept as plain numbers.
///
/// Without the crate's `symbolic` feature every expression is a constant: a runtime for
/// fixed-size models (a firmware) then links none of the polynomial arithmetic, and
/// [`SymExpr::symbol`] and [`SymExpr::parse`] do not exist.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymExpr(Repr);

/// The normal form: [`Repr::Poly`] only when some term has a symbol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr {
    Const(i64),
    /// Terms by monomial, at least one of them not empty.
    #[cfg(feature = "symbolic")]
    Poly(Terms),
}

#[cfg(feature = "symbolic")]
type Terms = BTreeMap<Vec<Atom>, i64>;

impl Default for SymExpr {
    fn default() -> SymExpr {
        SymExpr(Repr::Const(0))
    }
}

impl From<i64> for SymExpr {
    fn from(c: i64) -> SymExpr {
        SymExpr(Repr::Const(c))
    }
}

/// Expressions are ordered as their lists of (monomial, coefficient) terms, monomials in
/// order: a total order that [`Atom`]'s, and with it a monomial's atom order, builds on.
impl Ord for SymExpr {
    fn cmp(&self, other: &SymExpr) -> core::cmp::Ordering {
        // A constant's terms: none for zero, else one with the empty monomial (the least).
        let constant_term = |c: i64| (c != 0).then_some(c);
        match (&self.0, &other.0) {
            (Repr::Const(a), Repr::Const(b)) => constant_term(*a).cmp(&constant_term(*b)),
            #[cfg(feature = "symbolic")]
            (Repr::Poly(a), Repr::Poly(b)) => a.iter().cmp(b.iter()),
            // A polynomial has a term with a symbol, after its constant one: a constant
            // orders before it unless their constant terms differ the other way.
            #[cfg(feature = "symbolic")]
            (Repr::Const(c), Repr::Poly(t)) => const_before(*c, t),
            #[cfg(feature = "symbolic")]
            (Repr::Poly(t), Repr::Const(c)) => const_before(*c, t).reverse(),
        }
    }
}

impl PartialOrd for SymExpr {
    fn partial_cmp(&self, other: &SymExpr) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl SymExpr {
    /// The value when the expression has no symbols.
    pub fn as_const(&self) -> Option<i64> {
        match self.0 {
            Repr::Const(c) => Some(c),
            #[cfg(feature = "symbolic")]
            Repr::Poly(_) => None,
        }
    }

    /// The symbol's name when the expression is exactly one symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match &self.0 {
            Repr::Const(_) => None,
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => match terms.iter().next() {
                Some((m, 1)) if terms.len() == 1 && m.len() == 1 => match &m[0] {
                    Atom::Symbol(s) => Some(s),
                    Atom::FloorDiv(..) => None,
                },
                _ => None,
            },
        }
    }

    /// `floor(self / d)` for a positive constant `d`, simplified: terms whose coefficients `d`
    /// divides leave the division, and a division of a division merges into one.
    pub fn floor_div(&self, d: i64) -> SymExpr {
        assert!(d > 0, "sizes are divided by positive constants only");
        match &self.0 {
            _ if d == 1 => self.clone(),
            Repr::Const(c) => SymExpr::from(c.div_euclid(d)),
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => poly_floor_div(terms, d),
        }
    }

    /// `ceil(self / d)` for a positive constant `d`.
    pub fn ceil_div(&self, d: i64) -> SymExpr {
        (self.clone() + SymExpr::from(d - 1)).floor_div(d)
    }

    /// `self / divisor` when it divides every term exactly (as polynomials): the element count
    /// a reshape's `-1` dim stands for. `None` when it does not, or `divisor` is zero.
    pub fn exact_div(&self, divisor: &SymExpr) -> Option<SymExpr> {
        match (&self.0, &divisor.0) {
            (Repr::Const(a), Repr::Const(c)) => match a.checked_rem(*c) {
                _ if *a == 0 => Some(SymExpr::from(0)),
                Some(0) => Some(SymExpr::from(a / c)),
                _ => None,
            },
            #[cfg(feature = "symbolic")]
            (Repr::Poly(terms), Repr::Const(c)) => {
                if terms.values().any(|v| v.checked_rem(*c) != Some(0)) {
                    return None;
                }
                let terms = terms.iter().map(|(m, v)| (m.clone(), v / c)).collect();
                Some(SymExpr(Repr::Poly(terms)))
            }
            #[cfg(feature = "symbolic")]
            (_, Repr::Poly(divisor_terms)) => self.poly_exact_div(divisor_terms),
        }
    }

    /// The value with every symbol bound by `lookup`; `None` if a symbol is unbound or the
    /// arithmetic overflows.
    #[cfg_attr(not(feature = "symbolic"), allow(unused_variables))]
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
        match &self.0 {
            Repr::Const(c) => Some(*c),
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => {
                let mut total: i64 = 0;
                for (m, &c) in terms {
                    let mut term = c;
                    for a in m {
                        let v = match a {
                            Atom::Symbol(s) => lookup(s)?,
                            Atom::FloorDiv(e, d) => e.eval(lookup)?.div_euclid(*d),
                        };
                        term = term.checked_mul(v)?;
                    }
                    total = total.checked_add(term)?;
                }
                Some(total)
            }
        }
    }

    /// The value computed in `arith`'s arithmetic (a code generator's instructions): the
    /// same value as [`SymExpr::eval`] gives for the symbols `arith` binds, built term by term.
    ///
    /// ```
    /// use kiln_types::sym::{SymArith, SymExpr};
    /// struct Text;
    /// impl SymArith for Text {
    ///     type Value = String;
    ///     type Error = ();
    ///     fn constant(&mut self, c: i64) -> Result<String, ()> { Ok(c.to_string()) }
    ///     fn symbol(&mut self, name: &str) -> Result<String, ()> { Ok(name.to_string()) }
    ///     fn add(&mut self, a: String, b: String) -> Result<String, ()> { Ok(format!("({a}+{b})")) }
    ///     fn mul(&mut self, a: String, b: String) -> Result<String, ()> { Ok(format!("{a}*{b}")) }
    ///     fn floor_div(&mut self, a: String, d: i64) -> Result<String, ()> { Ok(format!("fdiv({a},{d})")) }
    /// }
    /// let e = SymExpr::parse("2*h + (w+1)/2").unwrap();
    /// assert_eq!(e.eval_in(&mut Text).unwrap(), "(2*h+fdiv((1+w),2))");
    /// ```
    pub fn eval_in<A: SymArith>(&self, arith: &mut A) -> Result<A::Value, A::Error> {
        match &self.0 {
            Repr::Const(c) => arith.constant(*c),
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => eval_terms_in(terms, arith),
        }
    }

    /// True when the expression is non-negative for every value of its symbols (which are
    /// sizes, never negative): every coefficient is positive and every division divides a
    /// non-negative expression. `false` may still be non-negative.
    ///
    /// ```
    /// use kiln_types::sym::SymExpr;
    /// assert!(!SymExpr::parse("2*h*w - 1").unwrap().is_nonnegative());
    /// assert!(SymExpr::parse("2*h*w + (h+1)/2").unwrap().is_nonnegative());
    /// ```
    pub fn is_nonnegative(&self) -> bool {
        match &self.0 {
            Repr::Const(c) => *c >= 0,
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => terms.iter().all(|(m, &c)| {
                c > 0
                    && m.iter().all(|a| match a {
                        Atom::Symbol(_) => true,
                        Atom::FloorDiv(e, _) => e.is_nonnegative(),
                    })
            }),
        }
    }

    /// A typical value of the expression, for choices that need an order between sizes (which
    /// of two groups of dims to extend first) but never for correctness: each symbol counts
    /// as a few thousand, different per name so that unrelated sizes rarely tie.
    pub fn estimate(&self) -> i64 {
        self.eval(&|name| {
            let h = name
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
            Some(2048 + (h % 2048) as i64)
        })
        .unwrap_or(i64::MAX)
    }

    /// Replaces the symbols `lookup` binds by their values and simplifies; others stay.
    #[cfg_attr(not(feature = "symbolic"), allow(unused_variables))]
    pub fn substitute(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> SymExpr {
        match &self.0 {
            Repr::Const(_) => self.clone(),
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => {
                let mut out = SymExpr::default();
                for (m, &c) in terms {
                    let mut term = SymExpr::from(c);
                    for a in m {
                        term = term
                            * match a {
                                Atom::Symbol(s) => match lookup(s) {
                                    Some(v) => SymExpr::from(v),
                                    None => SymExpr::symbol(s.clone()),
                                },
                                Atom::FloorDiv(e, d) => e.substitute(lookup).floor_div(*d),
                            };
                    }
                    out = out + term;
                }
                out
            }
        }
    }

    /// Every symbol the expression mentions, sorted, each once.
    pub fn symbols(&self) -> Vec<String> {
        let mut out = vec![];
        #[cfg(feature = "symbolic")]
        self.collect_symbols(&mut out);
        crate::sort::sort_short(&mut out);
        out.dedup();
        out
    }

    #[cfg(feature = "symbolic")]
    fn collect_symbols(&self, out: &mut Vec<String>) {
        if let Repr::Poly(terms) = &self.0 {
            for a in terms.keys().flatten() {
                match a {
                    Atom::Symbol(s) => out.push(s.clone()),
                    Atom::FloorDiv(e, _) => e.collect_symbols(out),
                }
            }
        }
    }
}

/// The polynomial arithmetic: expressions with symbols, their text form and its parser.
#[cfg(feature = "symbolic")]
impl SymExpr {
    /// The named dim `name`.
    pub fn symbol(name: impl Into<String>) -> SymExpr {
        SymExpr::atom(Atom::Symbol(name.into()))
    }

    fn atom(a: Atom) -> SymExpr {
        SymExpr(Repr::Poly(BTreeMap::from([(vec![a], 1)])))
    }

    /// The expression in normal form: a constant when no term has a symbol.
    fn from_terms(terms: Terms) -> SymExpr {
        if terms.keys().all(Vec::is_empty) {
            SymExpr::from(terms.values().next().copied().unwrap_or(0))
        } else {
            SymExpr(Repr::Poly(terms))
        }
    }

    /// True when the expression is one atom (coefficient 1, no other term).
    fn as_single_atom(&self) -> bool {
        matches!(&self.0, Repr::Poly(terms) if terms.len() == 1
            && terms.iter().next().is_some_and(|(m, &c)| c == 1 && m.len() == 1))
    }

    fn into_terms(self) -> Terms {
        match self.0 {
            Repr::Const(c) => constant_terms(c),
            Repr::Poly(terms) => terms,
        }
    }

    fn to_terms(&self) -> alloc::borrow::Cow<'_, Terms> {
        match &self.0 {
            Repr::Const(c) => alloc::borrow::Cow::Owned(constant_terms(*c)),
            Repr::Poly(terms) => alloc::borrow::Cow::Borrowed(terms),
        }
    }

    /// [`SymExpr::exact_div`] by a divisor with symbols: a single term c·m divides when every
    /// term holds m's atoms and a multiple of c; a sum divides only itself.
    fn poly_exact_div(&self, divisor: &Terms) -> Option<SymExpr> {
        let [(dm, &dc)] = divisor.iter().collect::<Vec<_>>()[..] else {
            return (self.to_terms().as_ref() == divisor).then(|| SymExpr::from(1));
        };
        let mut out = Terms::new();
        for (m, &c) in self.to_terms().iter() {
            let mut rest = m.clone();
            for a in dm {
                let i = rest.iter().position(|x| x == a)?;
                rest.remove(i);
            }
            if c.checked_rem(dc) != Some(0) {
                return None;
            }
            add_term(&mut out, rest, c / dc);
        }
        Some(SymExpr::from_terms(out))
    }

    /// How many terms the expression has (the constant term counts when it is not zero).
    fn term_count(&self) -> usize {
        match &self.0 {
            Repr::Const(c) => usize::from(*c != 0),
            Repr::Poly(terms) => terms.len(),
        }
    }

    /// Parses the text form: integers, symbols (`[A-Za-z_][A-Za-z0-9_.]*`), `+`, `-`, `*`,
    /// `/` (floor division by a positive constant) and parentheses.
    pub fn parse(text: &str) -> Result<SymExpr, String> {
        let mut p = ExprParser {
            s: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let e = p.sum()?;
        p.skip_ws();
        if p.pos != p.s.len() {
            return Err(format!("unexpected '{}' in size '{text}'", &text[p.pos..]));
        }
        Ok(e)
    }
}

/// [`SymExpr::eval_in`] of a polynomial.
#[cfg(feature = "symbolic")]
fn eval_terms_in<A: SymArith>(terms: &Terms, arith: &mut A) -> Result<A::Value, A::Error> {
    let mut total: Option<A::Value> = None;
    for (m, &c) in terms {
        let mut term: Option<A::Value> = None;
        for a in m {
            let v = match a {
                Atom::Symbol(s) => arith.symbol(s)?,
                Atom::FloorDiv(e, d) => {
                    let x = e.eval_in(arith)?;
                    arith.floor_div(x, *d)?
                }
            };
            term = Some(match term {
                None => v,
                Some(t) => arith.mul(t, v)?,
            });
        }
        let term = match term {
            None => arith.constant(c)?,
            Some(t) if c == 1 => t,
            Some(t) => {
                let c = arith.constant(c)?;
                arith.mul(c, t)?
            }
        };
        total = Some(match total {
            None => term,
            Some(t) => arith.add(t, term)?,
        });
    }
    match total {
        Some(t) => Ok(t),
        None => arith.constant(0),
    }
}

/// How constant `c` orders against the polynomial with `terms` (as lists of terms).
#[cfg(feature = "symbolic")]
fn const_before(c: i64, terms: &Terms) -> core::cmp::Ordering {
    use core::cmp::Ordering::Less;
    match terms.get(&[][..]) {
        // Both start with a constant term: theirs decide, and then the shorter list.
        Some(&d) if c != 0 => c.cmp(&d).then(Less),
        // Zero has no terms; an empty monomial orders before any with a symbol.
        _ => Less,
    }
}

#[cfg(feature = "symbolic")]
fn constant_terms(c: i64) -> Terms {
    match c {
        0 => Terms::new(),
        c => BTreeMap::from([(vec![], c)]),
    }
}

#[cfg(feature = "symbolic")]
fn add_term(terms: &mut Terms, monomial: Vec<Atom>, coefficient: i64) {
    let c = terms.entry(monomial.clone()).or_insert(0);
    *c = c.saturating_add(coefficient);
    if *c == 0 {
        terms.remove(&monomial);
    }
}

/// [`SymExpr::floor_div`] of an expression with symbols by `d > 1`.
#[cfg(feature = "symbolic")]
fn poly_floor_div(terms: &Terms, d: i64) -> SymExpr {
    let mut quotient = Terms::new();
    let mut rest = Terms::new();
    for (m, &c) in terms {
        let (q, r) = (c.div_euclid(d), c.rem_euclid(d));
        if q != 0 {
            add_term(&mut quotient, m.clone(), q);
        }
        if r != 0 {
            add_term(&mut rest, m.clone(), r);
        }
    }
    let (quotient, rest) = (SymExpr::from_terms(quotient), SymExpr::from_terms(rest));
    if let Some(r) = rest.as_const() {
        return quotient + SymExpr::from(r.div_euclid(d));
    }
    // floor(floor(x / a) / d) = floor(x / (a·d)).
    if let Repr::Poly(rest_terms) = &rest.0 {
        let only_term = rest_terms.iter().next().filter(|_| rest_terms.len() == 1);
        if let Some((m, 1)) = only_term {
            if let [Atom::FloorDiv(inner, a)] = m.as_slice() {
                if let Some(ad) = a.checked_mul(d) {
                    return quotient + inner.floor_div(ad);
                }
            }
        }
    }
    quotient + SymExpr::atom(Atom::FloorDiv(Box::new(rest), d))
}

impl Add for SymExpr {
    type Output = SymExpr;
    fn add(self, rhs: SymExpr) -> SymExpr {
        match (self.0, rhs.0) {
            (Repr::Const(a), Repr::Const(b)) => SymExpr::from(a.saturating_add(b)),
            #[cfg(feature = "symbolic")]
            (a, b) => {
                let mut terms = SymExpr(a).into_terms();
                for (m, c) in SymExpr(b).into_terms() {
                    add_term(&mut terms, m, c);
                }
                SymExpr::from_terms(terms)
            }
        }
    }
}

impl Sub for SymExpr {
    type Output = SymExpr;
    fn sub(self, rhs: SymExpr) -> SymExpr {
        match (self.0, rhs.0) {
            (Repr::Const(a), Repr::Const(b)) => SymExpr::from(a.saturating_add(b.saturating_neg())),
            #[cfg(feature = "symbolic")]
            (a, b) => {
                let mut terms = SymExpr(a).into_terms();
                for (m, c) in SymExpr(b).into_terms() {
                    add_term(&mut terms, m, c.saturating_neg());
                }
                SymExpr::from_terms(terms)
            }
        }
    }
}

impl Mul for SymExpr {
    type Output = SymExpr;
    fn mul(self, rhs: SymExpr) -> SymExpr {
        match (&self.0, &rhs.0) {
            (Repr::Const(a), Repr::Const(b)) => SymExpr::from(a.saturating_mul(*b)),
            #[cfg(feature = "symbolic")]
            _ => {
                let (a, b) = (self.to_terms(), rhs.to_terms());
                let mut out = Terms::new();
                for (ma, ca) in a.iter() {
                    for (mb, cb) in b.iter() {
                        let mut m: Vec<Atom> = ma.iter().chain(mb).cloned().collect();
                        crate::sort::sort_short(&mut m);
                        add_term(&mut out, m, ca.saturating_mul(*cb));
                    }
                }
                SymExpr::from_terms(out)
            }
        }
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Turns any ONNX `dim_param` into a symbol name the text form can carry: characters other
/// than letters, digits, `_` and `.` become `_`, and a name not starting with a letter or `_`
/// gets a leading `_`.
pub fn symbol_name(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !is_ident(&s) {
        s.insert(0, '_');
    }
    s
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Symbol(s) => f.write_str(s),
            // A single atom divided needs no parentheses: `h/2`, `(h/3)/2`.
            #[cfg(feature = "symbolic")]
            Atom::FloorDiv(e, d) if e.as_single_atom() => write!(f, "{e}/{d}"),
            Atom::FloorDiv(e, d) => write!(f, "({e})/{d}"),
        }
    }
}

impl fmt::Display for SymExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Const(c) => write!(f, "{c}"),
            #[cfg(feature = "symbolic")]
            Repr::Poly(terms) => write_terms(terms, f),
        }
    }
}

/// Writes a polynomial: symbolic terms first (in their canonical order), the constant last
/// (`h/2+1`).
#[cfg(feature = "symbolic")]
fn write_terms(terms: &Terms, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut ordered: Vec<(&Vec<Atom>, i64)> = terms
        .iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, &c)| (m, c))
        .collect();
    let constant = terms.get(&vec![]).copied();
    let empty = vec![];
    if let Some(c) = constant {
        ordered.push((&empty, c));
    }
    for (i, (m, c)) in ordered.into_iter().enumerate() {
        let magnitude = c.unsigned_abs();
        if c < 0 {
            f.write_str("-")?;
        } else if i > 0 {
            f.write_str("+")?;
        }
        if m.is_empty() {
            write!(f, "{magnitude}")?;
            continue;
        }
        if magnitude != 1 {
            write!(f, "{magnitude}*")?;
        }
        for (j, a) in m.iter().enumerate() {
            if j > 0 {
                f.write_str("*")?;
            }
            // `2*(h/2)`, `w*(h/2)`: a division after a factor would otherwise divide the
            // whole product when read back.
            match a {
                Atom::FloorDiv(..) if j > 0 || magnitude != 1 => write!(f, "({a})")?,
                _ => write!(f, "{a}")?,
            }
        }
    }
    Ok(())
}

/// Limits on parsed text, which may come from an untrusted module file: nesting depth and
/// terms per product (multiplying sums multiplies their term counts).
#[cfg(feature = "symbolic")]
const MAX_DEPTH: usize = 32;
#[cfg(feature = "symbolic")]
const MAX_TERMS: usize = 256;

#[cfg(feature = "symbolic")]
struct ExprParser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

#[cfg(feature = "symbolic")]
impl ExprParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn sum(&mut self) -> Result<SymExpr, String> {
        let negate = self.eat(b'-');
        let mut e = self.product()?;
        if negate {
            e = SymExpr::from(0) - e;
        }
        loop {
            if self.eat(b'+') {
                e = e + self.product()?;
            } else if self.eat(b'-') {
                e = e - self.product()?;
            } else {
                return Ok(e);
            }
        }
    }

    fn product(&mut self) -> Result<SymExpr, String> {
        let mut e = self.factor()?;
        loop {
            if self.eat(b'*') {
                e = e * self.factor()?;
                if e.term_count() > MAX_TERMS {
                    return Err(format!("size has more than {MAX_TERMS} terms"));
                }
            } else if self.eat(b'/') {
                let d = self.factor()?;
                match d.as_const() {
                    Some(d) if d > 0 => e = e.floor_div(d),
                    _ => return Err(format!("sizes divide only by positive constants, not {d}")),
                }
            } else {
                return Ok(e);
            }
        }
    }

    fn factor(&mut self) -> Result<SymExpr, String> {
        if self.eat(b'(') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(format!("size nests more than {MAX_DEPTH} parentheses"));
            }
            let e = self.sum()?;
            if !self.eat(b')') {
                return Err("missing ')' in size".into());
            }
            self.depth -= 1;
            return Ok(e);
        }
        self.skip_ws();
        let start = self.pos;
        let rest = &self.s[start..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            let len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            self.pos += len;
            let text = core::str::from_utf8(&rest[..len]).expect("ascii digits");
            return text
                .parse::<i64>()
                .map(SymExpr::from)
                .map_err(|_| format!("size {text} is too large"));
        }
        let len = rest
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            .count();
        let name = core::str::from_utf8(&rest[..len]).expect("ascii name");
        if !is_ident(name) {
            return Err("expected a size, a symbol or '('".into());
        }
        self.pos += len;
        Ok(SymExpr::symbol(name))
    }
}

/// Constants: the only sizes without the `symbolic` feature.
#[cfg(test)]
mod constant_tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn constants_compute_compare_and_print_as_numbers() {
        let (a, b) = (SymExpr::from(7), SymExpr::from(-3));
        assert_eq!((a.clone() + b.clone()).as_const(), Some(4));
        assert_eq!((a.clone() - b.clone()).as_const(), Some(10));
        assert_eq!((a.clone() * b.clone()).as_const(), Some(-21));
        assert_eq!(a.floor_div(2), SymExpr::from(3));
        assert_eq!(b.floor_div(2), SymExpr::from(-2));
        assert_eq!(a.ceil_div(2), SymExpr::from(4));
        let twelve = SymExpr::from(12);
        assert_eq!(twelve.exact_div(&SymExpr::from(4)), Some(SymExpr::from(3)));
        assert_eq!(twelve.exact_div(&SymExpr::from(5)), None);
        assert_eq!(a.exact_div(&SymExpr::from(0)), None);
        assert_eq!(a.eval(&|_| None), Some(7));
        assert!(a.symbols().is_empty() && a.is_nonnegative() && !b.is_nonnegative());
        assert_eq!(
            (b.to_string(), SymExpr::default().to_string()),
            ("-3".into(), "0".into())
        );
        // Ordered as lists of terms: zero has none, so it comes first.
        let mut v = [a.clone(), SymExpr::from(0), b.clone()];
        crate::sort::sort_short(&mut v);
        assert_eq!(v, [SymExpr::from(0), b, a]);
    }
}

#[cfg(all(test, feature = "symbolic"))]
mod tests {
    use super::*;
    use std::prelude::rust_2021::*;

    fn e(s: &str) -> SymExpr {
        SymExpr::parse(s).unwrap()
    }

    #[test]
    fn normal_form_makes_equal_polynomials_equal() {
        assert_eq!(e("2*h+h"), e("3*h"));
        assert_eq!(e("h*w-w*h"), SymExpr::from(0));
        assert_eq!(e("(2*h+2)/2"), e("h+1"));
        assert_eq!(e("((h+1)/2)/2"), e("(h+1)/4"));
        assert_eq!(e("(4*h+5)/2"), e("2*h+2"));
        assert_eq!(e("(h+4)/2"), e("h/2+2"));
        assert_eq!(e("7/2"), SymExpr::from(3));
        assert_eq!(
            e("-7/2"),
            SymExpr::from(-3),
            "unary minus applies to the quotient"
        );
        assert_eq!(e("(0-7)/2"), SymExpr::from(-4));
        assert_eq!(e("(h+1)/2").to_string(), "(h+1)/2");
        assert_eq!(e("b*s*64").to_string(), "64*b*s");
        assert_eq!(e("h/2").to_string(), "h/2");
        assert_eq!(e("1-h").to_string(), "-h+1");
    }

    #[test]
    fn expressions_whose_symbols_cancel_are_constants_and_order_before_symbols() {
        assert_eq!(e("2*h+3-2*h").as_const(), Some(3));
        assert_eq!(e("(h+4)/2-h/2").as_const(), Some(2));
        let mut v = [e("h"), e("3"), e("0"), e("-5"), e("h+1")];
        crate::sort::sort_short(&mut v);
        // As lists of (monomial, coefficient) terms: h+1 is [(1, 1), (h, 1)], before [(1, 3)].
        assert_eq!(v, [e("0"), e("-5"), e("h+1"), e("3"), e("h")]);
    }

    #[test]
    fn printing_round_trips() {
        for text in [
            "(h-1)/2+1",
            "64*b*s",
            "-h+1",
            "h/2*w",
            "(3*h+1)/4*((w+2)/2)",
            "2*(h/2)",
            "-(h+1)/2",
            "7",
            "0",
        ] {
            let x = e(text);
            assert_eq!(e(&x.to_string()), x, "{text} prints as {x}");
        }
    }

    #[test]
    fn exact_division_recovers_reshape_dims() {
        assert_eq!(e("64*b*s").exact_div(&e("b*s")), Some(SymExpr::from(64)));
        assert_eq!(e("12*b*s").exact_div(&e("4*b")), Some(e("3*s")));
        assert_eq!(e("b*s+b").exact_div(&e("b")), Some(e("s+1")));
        assert_eq!(e("b*s").exact_div(&e("w")), None);
        assert_eq!(e("6*b").exact_div(&SymExpr::from(4)), None);
        assert_eq!(e("h+1").exact_div(&e("h+1")), Some(SymExpr::from(1)));
        assert_eq!(e("h").exact_div(&SymExpr::from(0)), None);
    }

    #[test]
    fn evaluation_and_substitution_agree() {
        let x = e("(h-3)/2*w+h*w/4+1");
        let bind = |s: &str| match s {
            "h" => Some(17),
            "w" => Some(9),
            _ => None,
        };
        let expect = (17 - 3) / 2 * 9 + 17 * 9 / 4 + 1;
        assert_eq!(x.eval(&bind), Some(expect));
        assert_eq!(x.substitute(&bind).as_const(), Some(expect));
        let partial = x.substitute(&|s| (s == "w").then_some(4));
        assert_eq!(partial, e("(h-3)/2*4+h+1"));
        assert_eq!(x.eval(&|_| None), None);
        assert_eq!(x.symbols(), ["h", "w"]);
    }

    #[test]
    fn hostile_text_is_bounded() {
        assert!(SymExpr::parse(&format!("{}h{}", "(".repeat(40), ")".repeat(40))).is_err());
        let blowup = "(a+b+c+d)*(e+f+g+h)*(i+j+k+l)*(m+n+o+p)*(q+r+s+t)";
        assert!(SymExpr::parse(blowup).unwrap_err().contains("terms"));
    }

    #[test]
    fn bad_text_is_refused() {
        assert!(SymExpr::parse("h/w").is_err());
        assert!(SymExpr::parse("h/0").is_err());
        assert!(SymExpr::parse("(h+1").is_err());
        assert!(SymExpr::parse("h+").is_err());
        assert!(SymExpr::parse("h w").is_err());
    }

    #[test]
    fn onnx_dim_params_become_symbol_names() {
        assert_eq!(symbol_name("batch_size"), "batch_size");
        assert_eq!(symbol_name("height / 2"), "height___2");
        assert_eq!(symbol_name("2d"), "_2d");
        assert_eq!(symbol_name(""), "_");
    }
}
