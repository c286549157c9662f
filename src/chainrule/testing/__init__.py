"""Helpers for testing chainrule and code built on it: the declarative op table
(:mod:`chainrule.testing.op_table`)."""
