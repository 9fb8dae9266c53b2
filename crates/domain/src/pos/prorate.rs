//! Splitting an amount across weights by largest remainder.
