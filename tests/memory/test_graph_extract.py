"""What the code graph reads from one file, per language: definitions with qualified names, signatures and
docstrings; calls and references with the definition they sit in; imports."""

from __future__ import annotations

from agent_core.memory.graph.extract import FileFacts, extract
from agent_core.memory.graph.languages import language_of


def defs(facts: FileFacts) -> dict[str, tuple[str, int, str, str]]:
    return {d.qualname: (d.kind, d.line, d.signature, d.doc) for d in facts.definitions}


def calls(facts: FileFacts) -> set[tuple[str, str]]:
    return {(r.name, r.scope) for r in facts.references if r.kind == "call"}


def test_python() -> None:
    source = b'''import os.path
from shop.pricing import apply_discount as discount

RATE = 0.9
"""The discount rate."""


@register
class Cart(Base):
    """A cart.

    More words."""

    def total(
        self,
        items: list[Item],
    ) -> float:
        """The sum."""
        return discount(sum(items)).real


def helper(x):
    def inner():
        return os.path.join(x)
    return inner()
'''
    facts = extract(source, "python")
    assert defs(facts) == {
        "RATE": ("variable", 4, "RATE = 0.9", "The discount rate."),
        "Cart": ("class", 9, "class Cart(Base)", "A cart."),
        "Cart.total": ("method", 14, "def total(self, items: list[Item]) -> float", "The sum."),
        "helper": ("function", 22, "def helper(x)", ""),
        "helper.inner": ("function", 23, "def inner()", ""),
    }
    assert calls(facts) == {("discount", "Cart.total"), ("sum", "Cart.total"), ("join", "helper.inner"),
                            ("inner", "helper")}  # fmt: skip
    refs = {(r.name, r.scope) for r in facts.references if r.kind == "ref"}
    assert {("Base", "Cart"), ("register", ""), ("Item", "Cart.total"), ("apply_discount", "")} <= refs
    assert facts.imports == [("os.path", 1), ("shop.pricing", 2)]
    assert facts.lines == 25


def test_javascript_and_typescript() -> None:
    js = b"""import { Cart } from './cart.js';
const fs = require('fs');

/**
 * Applies a discount.
 */
export function applyDiscount(amount) {
  return round(amount * 0.9);
}

export class Checkout extends Base {
  // Charges the cart.
  charge(cart) { return applyDiscount(cart.total()); }
}

const round = (x) => Math.round(x);
"""
    facts = extract(js, "javascript")
    assert defs(facts) == {
        "applyDiscount": ("function", 7, "function applyDiscount(amount)", "Applies a discount."),
        "Checkout": ("class", 11, "class Checkout extends Base", ""),
        "Checkout.charge": ("method", 13, "charge(cart)", "Charges the cart."),
        "round": ("function", 16, "round = (x) => Math.round(x)", ""),
    }
    assert {("applyDiscount", "Checkout.charge"), ("round", "applyDiscount")} <= calls(facts)
    assert facts.imports == [("./cart.js", 1), ("fs", 2)]
    ts = b"""interface Item { price: number }
type Total = number;
export function total(items: Item[]): Total { return items.length; }
enum Mode { A }
abstract class Shape { abstract area(): number; }
"""
    facts = extract(ts, "typescript")
    assert {q: k for q, (k, *_) in defs(facts).items()} == {
        "Item": "interface",
        "Total": "type",
        "total": "function",
        "Mode": "enum",
        "Shape": "class",
        "Shape.area": "method",
    }
    assert {("Item", "total"), ("Total", "total")} <= {(r.name, r.scope) for r in facts.references}


def test_go() -> None:
    source = b"""package shop

import (
	"fmt"
	"strings"
)

// Cart holds items.
type Cart struct{ items []int }

// Total sums the cart.
func (c *Cart) Total() int { return sum(c.items) }

func sum(xs []int) int { fmt.Println(strings.Repeat("x", 1)); return 0 }

const Limit = 10
"""
    facts = extract(source, "go")
    assert defs(facts) == {
        "Cart": ("type", 9, "type Cart struct{ items []int }", "Cart holds items."),
        "Cart.Total": ("method", 12, "func (c *Cart) Total() int", "Total sums the cart."),
        "sum": ("function", 14, "func sum(xs []int) int", ""),
        "Limit": ("constant", 16, "Limit = 10", ""),
    }
    assert {("sum", "Cart.Total"), ("Println", "sum"), ("Repeat", "sum")} <= calls(facts)
    assert facts.imports == [("fmt", 4), ("strings", 5)]


def test_rust() -> None:
    source = b"""use crate::pricing::discount;

/// A cart.
#[derive(Debug)]
pub struct Cart { items: Vec<u32> }

impl Cart {
    /// The total after discount.
    pub fn total(&self) -> u32 { discount(self.items.iter().sum()) }
}

pub trait Priced { fn price(&self) -> u32; }
"""
    facts = extract(source, "rust")
    assert defs(facts) == {
        "Cart": ("struct", 5, "pub struct Cart", "A cart."),
        "Cart.total": ("method", 9, "pub fn total(&self) -> u32", "The total after discount."),
        "Priced": ("trait", 12, "pub trait Priced", ""),
        "Priced.price": ("method", 12, "fn price(&self) -> u32", ""),
    }
    assert ("discount", "Cart.total") in calls(facts)
    assert facts.imports == [("crate::pricing::discount", 1)]


def test_broken_code_still_gives_what_parses() -> None:
    facts = extract(b"def good():\n    return 1\n\ndef broken(:\n", "python")
    assert "good" in defs(facts)


def test_languages_by_suffix() -> None:
    assert [language_of(p) for p in ("a.py", "b/c.tsx", "d.rs", "e.go", "f.mjs", "g.txt", "Makefile", "x.d/y")] == [
        "python", "tsx", "rust", "go", "javascript", None, None, None,
    ]  # fmt: skip
