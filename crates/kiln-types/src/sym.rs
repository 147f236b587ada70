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
use alloc::collections::BTreeMap;
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
/// atoms; the empty monomial is the constant term). No coefficient is zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymExpr {
    terms: BTreeMap<Vec<Atom>, i64>,
}

impl From<i64> for SymExpr {
    fn from(c: i64) -> SymExpr {
        let mut terms = BTreeMap::new();
        if c != 0 {
            terms.insert(vec![], c);
        }
        SymExpr { terms }
    }
}

impl SymExpr {
    /// The named dim `name`.
    pub fn symbol(name: impl Into<String>) -> SymExpr {
        SymExpr::atom(Atom::Symbol(name.into()))
    }

    fn atom(a: Atom) -> SymExpr {
        SymExpr {
            terms: BTreeMap::from([(vec![a], 1)]),
        }
    }

    fn add_term(&mut self, monomial: Vec<Atom>, coefficient: i64) {
        let c = self.terms.entry(monomial.clone()).or_insert(0);
        *c = c.saturating_add(coefficient);
        if *c == 0 {
            self.terms.remove(&monomial);
        }
    }

    /// The value when the expression has no symbols.
    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self.terms.get(&vec![]).copied(),
            _ => None,
        }
    }

    /// The symbol's name when the expression is exactly one symbol.
    pub fn as_symbol(&self) -> Option<&str> {
        match self.terms.iter().next() {
            Some((m, 1)) if self.terms.len() == 1 && m.len() == 1 => match &m[0] {
                Atom::Symbol(s) => Some(s),
                Atom::FloorDiv(..) => None,
            },
            _ => None,
        }
    }

    /// `floor(self / d)` for a positive constant `d`, simplified: terms whose coefficients `d`
    /// divides leave the division, and a division of a division merges into one.
    pub fn floor_div(&self, d: i64) -> SymExpr {
        assert!(d > 0, "sizes are divided by positive constants only");
        if d == 1 {
            return self.clone();
        }
        let mut quotient = SymExpr::default();
        let mut rest = SymExpr::default();
        for (m, &c) in &self.terms {
            let (q, r) = (c.div_euclid(d), c.rem_euclid(d));
            if q != 0 {
                quotient.add_term(m.clone(), q);
            }
            if r != 0 {
                rest.add_term(m.clone(), r);
            }
        }
        if let Some(r) = rest.as_const() {
            return quotient + SymExpr::from(r.div_euclid(d));
        }
        // floor(floor(x / a) / d) = floor(x / (a·d)).
        if let Some((m, 1)) = rest.terms.iter().next() {
            if let ([Atom::FloorDiv(inner, a)], 1) = (m.as_slice(), rest.terms.len()) {
                if let Some(ad) = a.checked_mul(d) {
                    return quotient + inner.floor_div(ad);
                }
            }
        }
        quotient + SymExpr::atom(Atom::FloorDiv(Box::new(rest), d))
    }

    /// `ceil(self / d)` for a positive constant `d`.
    pub fn ceil_div(&self, d: i64) -> SymExpr {
        (self.clone() + SymExpr::from(d - 1)).floor_div(d)
    }

    /// `self / divisor` when it divides every term exactly (as polynomials): the element count
    /// a reshape's `-1` dim stands for. `None` when it does not, or `divisor` is zero.
    pub fn exact_div(&self, divisor: &SymExpr) -> Option<SymExpr> {
        if let Some(c) = divisor.as_const() {
            if self.terms.values().any(|v| v.checked_rem(c) != Some(0)) {
                return None;
            }
            let terms = self.terms.iter().map(|(m, v)| (m.clone(), v / c)).collect();
            return Some(SymExpr { terms });
        }
        // A single-term divisor c·m: every term must hold m's atoms and a multiple of c.
        let [(dm, &dc)] = divisor.terms.iter().collect::<Vec<_>>()[..] else {
            return (self == divisor).then(|| SymExpr::from(1));
        };
        let mut out = SymExpr::default();
        for (m, &c) in &self.terms {
            let mut rest = m.clone();
            for a in dm {
                let i = rest.iter().position(|x| x == a)?;
                rest.remove(i);
            }
            if c.checked_rem(dc) != Some(0) {
                return None;
            }
            out.add_term(rest, c / dc);
        }
        Some(out)
    }

    /// The value with every symbol bound by `lookup`; `None` if a symbol is unbound or the
    /// arithmetic overflows.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
        let mut total: i64 = 0;
        for (m, &c) in &self.terms {
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
        let mut total: Option<A::Value> = None;
        for (m, &c) in &self.terms {
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
        self.terms.iter().all(|(m, &c)| {
            c > 0
                && m.iter().all(|a| match a {
                    Atom::Symbol(_) => true,
                    Atom::FloorDiv(e, _) => e.is_nonnegative(),
                })
        })
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
    pub fn substitute(&self, lookup: &dyn Fn(&str) -> Option<i64>) -> SymExpr {
        let mut out = SymExpr::default();
        for (m, &c) in &self.terms {
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

    /// Every symbol the expression mentions, sorted, each once.
    pub fn symbols(&self) -> Vec<String> {
        let mut out = vec![];
        self.collect_symbols(&mut out);
        crate::sort::sort_short(&mut out);
        out.dedup();
        out
    }

    fn collect_symbols(&self, out: &mut Vec<String>) {
        for a in self.terms.keys().flatten() {
            match a {
                Atom::Symbol(s) => out.push(s.clone()),
                Atom::FloorDiv(e, _) => e.collect_symbols(out),
            }
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

impl Add for SymExpr {
    type Output = SymExpr;
    fn add(mut self, rhs: SymExpr) -> SymExpr {
        for (m, c) in rhs.terms {
            self.add_term(m, c);
        }
        self
    }
}

impl Sub for SymExpr {
    type Output = SymExpr;
    fn sub(mut self, rhs: SymExpr) -> SymExpr {
        for (m, c) in rhs.terms {
            self.add_term(m, c.saturating_neg());
        }
        self
    }
}

impl Mul for SymExpr {
    type Output = SymExpr;
    fn mul(self, rhs: SymExpr) -> SymExpr {
        let mut out = SymExpr::default();
        for (ma, ca) in &self.terms {
            for (mb, cb) in &rhs.terms {
                let mut m: Vec<Atom> = ma.iter().chain(mb).cloned().collect();
                crate::sort::sort_short(&mut m);
                out.add_term(m, ca.saturating_mul(*cb));
            }
        }
        out
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
            Atom::FloorDiv(e, d) if e.terms.len() == 1 && e.as_const().is_none() => {
                let (m, &c) = e.terms.iter().next().expect("one term");
                if c == 1 && m.len() == 1 {
                    write!(f, "{e}/{d}")
                } else {
                    write!(f, "({e})/{d}")
                }
            }
            Atom::FloorDiv(e, d) => write!(f, "({e})/{d}"),
        }
    }
}

impl fmt::Display for SymExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        // Symbolic terms first (in their canonical order), the constant last: `h/2+1`.
        let mut ordered: Vec<(&Vec<Atom>, i64)> = self
            .terms
            .iter()
            .filter(|(m, _)| !m.is_empty())
            .map(|(m, &c)| (m, c))
            .collect();
        let constant = self.terms.get(&vec![]).copied();
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
}

/// Limits on parsed text, which may come from an untrusted module file: nesting depth and
/// terms per product (multiplying sums multiplies their term counts).
const MAX_DEPTH: usize = 32;
const MAX_TERMS: usize = 256;

struct ExprParser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

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
                if e.terms.len() > MAX_TERMS {
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

#[cfg(test)]
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
